import OpenAI from 'openai';
import type { Config } from '../config.js';
import type { LlmCallRecording, ObservedLlmCall } from './usage/recorder.js';

export type LlmCallObserver = (
  outcome: 'ok' | 'error',
  seconds: number,
  usage?: { prompt_tokens?: number; completion_tokens?: number },
) => void;

type Usage = Parameters<LlmCallObserver>[2];

/** The model asked for, from the JSON body the openai client sends. */
function requestedModel(body: unknown): string {
  if (typeof body !== 'string') return 'unknown';
  try {
    const model = (JSON.parse(body) as { model?: unknown }).model;
    return typeof model === 'string' ? model : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A short reason without secrets: never the provider's message (it may echo the key). */
function failureOf(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'aborted or timed out';
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `connection failed (${code})` : `request failed (${error.name})`;
}

/**
 * Times every chat completion and reads its token usage, where all LLM calls pass: for the
 * metrics, and for the usage log (which learns what the call was for when it starts).
 */
function observedFetch(observe?: LlmCallObserver, record?: LlmCallRecording): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.endsWith('/chat/completions')) return fetch(input, init);
    const finish = record?.();
    const model = requestedModel(init?.body);
    const started = performance.now();
    const done = (outcome: 'ok' | 'error', usage: Usage, error: string | null) =>
      finish?.({
        model,
        latencyMs: Math.round(performance.now() - started),
        outcome,
        tokensIn: usage?.prompt_tokens ?? 0,
        tokensOut: usage?.completion_tokens ?? 0,
        error,
      } satisfies ObservedLlmCall);
    try {
      const response = await fetch(input, init);
      const seconds = (performance.now() - started) / 1000;
      if (!response.ok) observe?.('error', seconds);
      response
        .clone()
        .json()
        .then((json: unknown) => {
          const body = (json ?? {}) as { usage?: Usage; choices?: unknown; error?: { type?: unknown; code?: unknown } };
          if (response.ok) observe?.('ok', seconds, body.usage);
          if (!response.ok) {
            const kind = body.error?.type ?? body.error?.code;
            done('error', undefined, `HTTP ${response.status}${typeof kind === 'string' ? ` (${kind.slice(0, 60)})` : ''}`);
          } else if (!Array.isArray(body.choices)) done('error', body.usage, 'HTTP 200 without a chat completion');
          else done('ok', body.usage, null);
        })
        .catch(() => {
          if (response.ok) observe?.('ok', seconds);
          done('error', undefined, response.ok ? 'HTTP 200 without a chat completion' : `HTTP ${response.status}`);
        });
      return response;
    } catch (error) {
      observe?.('error', (performance.now() - started) / 1000);
      done('error', undefined, failureOf(error));
      throw error;
    }
  };
}

/**
 * The real `openai` client against any OpenAI-compatible URL, or none without a key. No retries
 * inside the client: the job queue retries with backoff and counts each attempt on the trace.
 */
export function createOpenAIClient(llm: Config['llm'], observe?: LlmCallObserver, record?: LlmCallRecording): OpenAI | undefined {
  if (!llm.apiKey) return undefined;
  return new OpenAI({
    apiKey: llm.apiKey,
    baseURL: llm.baseUrl,
    timeout: llm.timeoutMs,
    maxRetries: 0,
    ...(observe || record ? { fetch: observedFetch(observe, record) } : {}),
  });
}
