import type { FastifyBaseLogger } from 'fastify';
import OpenAI from 'openai';

/** What `/ready` says about the LLM (and the OpenAI embedding endpoint, which is the same URL). */
export type LlmState = 'ok' | 'unreachable' | 'not_configured';

export interface LlmEndpointCheck {
  /** The last known state (the first call waits for the first check). Never fails readiness. */
  state(): Promise<LlmState>;
}

/** Short: the check must not hold up start-up or a readiness probe. */
const CHECK_TIMEOUT_MS = 3_000;
/** A state older than this is refreshed (in the background) when asked for. */
const RECHECK_MS = 30_000;

/**
 * Asks the OpenAI-compatible endpoint for its models (GET /models) when first asked (the server
 * asks once it listens) and then at most every 30 s when /ready asks. Any HTTP answer but 401/403 proves it reachable (a server
 * without /models answers 404); a refused connection, a timeout or a 5xx does not. A failure is
 * logged as a warning, never thrown: the server starts, and reviews retry until the LLM answers.
 */
export function startLlmEndpointCheck(deps: {
  client: OpenAI | undefined;
  baseUrl: string | undefined;
  /** Models this server will ask for (chat, and embeddings when they go to the same endpoint). */
  models: string[];
  log: FastifyBaseLogger;
}): LlmEndpointCheck {
  if (!deps.client) return { state: async () => 'not_configured' };
  const client = deps.client;
  const where = endpointName(deps.baseUrl);
  let last: { state: LlmState; at: number } | undefined;
  let running: Promise<LlmState> | undefined;

  async function check(): Promise<LlmState> {
    const previous = last?.state;
    let state: LlmState;
    try {
      const listed = await client.models.list({ timeout: CHECK_TIMEOUT_MS, maxRetries: 0 });
      state = 'ok';
      const ids = new Set(listed.data.map((m) => m.id));
      const missing = deps.models.filter((m) => ids.size > 0 && !ids.has(m));
      if (missing.length && previous === undefined) {
        deps.log.warn({ endpoint: where, missing }, `the LLM endpoint does not list ${missing.join(', ')}; check REFLECT_LLM_MODEL / REFLECT_EMBEDDING_MODEL`);
      }
    } catch (error) {
      const status = error instanceof OpenAI.APIError ? error.status : undefined;
      if (status !== undefined && status < 500 && status !== 401 && status !== 403) {
        state = 'ok';
      } else {
        state = 'unreachable';
        const reason =
          status === 401 || status === 403
            ? `it rejected OPENAI_API_KEY (${status})`
            : status !== undefined
              ? `it answered ${status}`
              : (error as Error).message;
        if (previous !== 'unreachable') {
          deps.log.warn(
            { endpoint: where, reason },
            `the LLM endpoint is unreachable: ${reason}. Reviews will fail and be retried until it answers; check OPENAI_BASE_URL and OPENAI_API_KEY`,
          );
        }
      }
    }
    if (state === 'ok' && previous === 'unreachable') deps.log.info({ endpoint: where }, 'the LLM endpoint answers again');
    last = { state, at: Date.now() };
    return state;
  }

  function refresh(): Promise<LlmState> {
    running ??= check().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    async state() {
      if (!last) return refresh();
      if (Date.now() - last.at > RECHECK_MS) void refresh();
      return last.state;
    },
  };
}

/** The endpoint without credentials or query, for logs. */
function endpointName(baseUrl: string | undefined): string {
  if (!baseUrl) return 'https://api.openai.com/v1';
  try {
    const url = new URL(baseUrl);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(OPENAI_BASE_URL)';
  }
}
