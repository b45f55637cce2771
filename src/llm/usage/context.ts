import { AsyncLocalStorage } from 'node:async_hooks';

/** What an LLM call was for: set around the work that makes the calls, read by the recorder. */
export interface LlmCallContext {
  /** reflection, reflect, mental_model_refresh, … */
  purpose?: string;
  projectId?: string;
  traceId?: string;
  requestId?: string;
}

const storage = new AsyncLocalStorage<LlmCallContext>();

/** Runs `fn` with these fields added to (or replacing) the surrounding context's. */
export function withLlmCallContext<T>(context: LlmCallContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...definedFields(context) }, fn);
}

/** Runs `fn` in a context of its own, nothing inherited (background work started by a request). */
export function withFreshLlmCallContext<T>(context: LlmCallContext, fn: () => T): T {
  return storage.run(definedFields(context), fn);
}

export function currentLlmCallContext(): LlmCallContext {
  return storage.getStore() ?? {};
}

function definedFields(context: LlmCallContext): LlmCallContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as LlmCallContext;
}
