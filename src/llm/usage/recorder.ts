import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import { insertLlmCall, pruneLlmCalls } from '../../db/llmCalls.js';
import { currentLlmCallContext } from './context.js';

/** How one chat completion went, as the client's fetch saw it. */
export interface ObservedLlmCall {
  model: string;
  latencyMs: number;
  outcome: 'ok' | 'error';
  tokensIn: number;
  tokensOut: number;
  /** Short, no secrets: the HTTP status and error type, or the kind of connection failure. */
  error: string | null;
}

/** Called when a call starts (capturing what it is for); the returned function when it ends. */
export type LlmCallRecording = () => (call: ObservedLlmCall) => void;

const HOUR_MS = 3_600_000;

/**
 * The one place LLM calls are logged (llm_calls): every chat completion of the server's openai
 * client passes its fetch, which reports here; what the call was for comes from the context its
 * caller set (see context.ts). Writes never hold up or fail the call; close() waits for them.
 * Rows older than the retention are pruned hourly (retentionDays 0: kept forever).
 */
export function createLlmCallRecorder(deps: { db: Db; log: FastifyBaseLogger; retentionDays: number; pruneIntervalMs?: number }) {
  const pending = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  const begin: LlmCallRecording = () => {
    const context = currentLlmCallContext();
    return (call) => {
      const write = insertLlmCall(deps.db, {
        projectId: context.projectId ?? null,
        purpose: context.purpose ?? 'other',
        model: call.model,
        tokensIn: call.tokensIn,
        tokensOut: call.tokensOut,
        latencyMs: call.latencyMs,
        outcome: call.outcome,
        error: call.error,
        traceId: context.traceId ?? null,
        requestId: context.requestId ?? null,
      })
        .catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'could not record an LLM call'))
        .finally(() => pending.delete(write));
      pending.add(write);
    };
  };

  async function prune(): Promise<number> {
    if (deps.retentionDays === 0) return 0;
    const deleted = await pruneLlmCalls(deps.db, deps.retentionDays);
    if (deleted) deps.log.info({ deleted, retentionDays: deps.retentionDays }, 'pruned old LLM call records');
    return deleted;
  }

  return {
    begin,
    prune,
    /** Waits for the writes in flight. */
    async flush(): Promise<void> {
      await Promise.all([...pending]);
    },
    startPruning(): void {
      if (deps.retentionDays === 0) return;
      const run = () => void prune().catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'LLM call pruning failed'));
      run();
      timer = setInterval(run, deps.pruneIntervalMs ?? HOUR_MS);
      timer.unref();
    },
    async close(): Promise<void> {
      clearInterval(timer);
      await this.flush();
    },
  };
}

export type LlmCallRecorder = ReturnType<typeof createLlmCallRecorder>;
