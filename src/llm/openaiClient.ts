import OpenAI from 'openai';
import type { Config } from '../config.js';

export type LlmCallObserver = (
  outcome: 'ok' | 'error',
  seconds: number,
  usage?: { prompt_tokens?: number; completion_tokens?: number },
) => void;

/** Times every chat completion, and reads its token usage, where all LLM calls pass. */
function observedFetch(observe: LlmCallObserver): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.endsWith('/chat/completions')) return fetch(input, init);
    const started = performance.now();
    try {
      const response = await fetch(input, init);
      const seconds = (performance.now() - started) / 1000;
      if (!response.ok) observe('error', seconds);
      else
        response
          .clone()
          .json()
          .then((body) => observe('ok', seconds, (body as { usage?: Parameters<LlmCallObserver>[2] }).usage))
          .catch(() => observe('ok', seconds));
      return response;
    } catch (error) {
      observe('error', (performance.now() - started) / 1000);
      throw error;
    }
  };
}

/**
 * The real `openai` client against any OpenAI-compatible URL, or none without a key. No retries
 * inside the client: the job queue retries with backoff and counts each attempt on the trace.
 */
export function createOpenAIClient(llm: Config['llm'], observe?: LlmCallObserver): OpenAI | undefined {
  if (!llm.apiKey) return undefined;
  return new OpenAI({
    apiKey: llm.apiKey,
    baseURL: llm.baseUrl,
    timeout: llm.timeoutMs,
    maxRetries: 0,
    ...(observe ? { fetch: observedFetch(observe) } : {}),
  });
}
