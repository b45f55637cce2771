/**
 * The typed client of reflect-server: the Reflect SDK's operations over `api`, an openapi-fetch
 * client whose paths, parameters and bodies are typed from the server's own OpenAPI document
 * (client/generated/api.ts, written by `npm run generate:client`).
 *
 *   import { ReflectClient } from 'reflect-server/client';
 *   const reflect = new ReflectClient({ apiKey: process.env.REFLECT_API_KEY!, projectId: 'my-agent' });
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/api.js';

export type { components, paths } from './generated/api.js';

type Schemas = components['schemas'];
type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type Trace = Schemas['Trace'];
export type Memory = Schemas['Memory'];
export type AugmentedTask = Schemas['AugmentedTask'];
export type TraceSubmission = Schemas['TraceSubmission'];
export type ApiKeyInfo = Schemas['ApiKeyInfo'];
export type CreatedApiKey = Schemas['CreatedApiKey'];
export type CreateTraceBody = JsonBody<'/v1/traces', 'post'>;
export type QueryMemoriesBody = JsonBody<'/v1/memories/query', 'post'>;
export type ReviewBody = JsonBody<'/v1/traces/{id}/review', 'post'>;
export type CreateApiKeyBody = JsonBody<'/v1/api-keys', 'post'>;
export type BootstrapBody = JsonBody<'/v1/bootstrap', 'post'>;
export type ListTracesQuery = NonNullable<paths['/v1/traces']['get']['parameters']['query']>;

export interface ReflectClientOptions {
  /** Default http://localhost:8000. */
  baseUrl?: string;
  /** A plaintext key, `rf_live_…`. */
  apiKey: string;
  /** The project (X-Project-Id). Absent: the key's own project (master keys: "default"). */
  projectId?: string;
  /** Per request; default 60 s. */
  timeoutMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  /** Also wait for the review to be processed (memory written), not only for the trace to settle. */
  requireReviewed?: boolean;
  /** Default 250 ms. */
  pollIntervalMs?: number;
  /** Default 60 s; then a ReflectTimeoutError. */
  waitTimeoutMs?: number;
}

/** An answer outside 2xx, with the contract's `{detail, code}`. */
export class ReflectApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: unknown,
  ) {
    super(`HTTP ${status} ${code}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    this.name = 'ReflectApiError';
  }
}

/** The trace's processing failed for good; its `last_ingest_error` says why. */
export class ReflectTraceFailedError extends Error {
  constructor(readonly trace: Trace) {
    super(`Trace ${trace.id} failed: ${trace.last_ingest_error ?? 'unknown error'}`);
    this.name = 'ReflectTraceFailedError';
  }
}

export class ReflectTimeoutError extends Error {
  constructor(readonly traceId: string, waitedMs: number) {
    super(`Trace ${traceId} was still processing after ${waitedMs} ms`);
    this.name = 'ReflectTimeoutError';
  }
}

const DEFAULT_BASE_URL = 'http://localhost:8000';

/** openapi-fetch's result as data, or a ReflectApiError. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  const body = (result.error ?? {}) as { detail?: unknown; code?: unknown };
  throw new ReflectApiError(result.response.status, typeof body.code === 'string' ? body.code : 'http_error', body.detail ?? result.response.statusText);
}

function timeoutMiddleware(timeoutMs: number): Middleware {
  return {
    onRequest({ request }) {
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
      return new Request(request, { signal });
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ReflectClient {
  /** Every endpoint, typed: `await client.api.GET('/v1/stats', { params: { query: { days: 7 } } })`. */
  readonly api: Client<paths>;

  constructor(options: ReflectClientOptions) {
    this.api = createClient<paths>({
      baseUrl: (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
      headers: { authorization: `Bearer ${options.apiKey}`, ...(options.projectId ? { 'x-project-id': options.projectId } : {}) },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.api.use(timeoutMiddleware(options.timeoutMs ?? 60_000));
  }

  /** A first master key from the operator's bootstrap token (no client needed yet). */
  static async bootstrap(options: { baseUrl?: string; bootstrapToken: string; fetch?: typeof fetch } & BootstrapBody): Promise<CreatedApiKey> {
    const { baseUrl, bootstrapToken, fetch: customFetch, ...body } = options;
    const api = createClient<paths>({ baseUrl: (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''), ...(customFetch ? { fetch: customFetch } : {}) });
    return unwrap(await api.POST('/v1/bootstrap', { body, headers: { authorization: `Bearer ${bootstrapToken}` } })) as CreatedApiKey;
  }

  async health(): Promise<{ status: string }> {
    return unwrap(await this.api.GET('/health'));
  }

  /** Memories ranked by (1 − λ)·similarity + λ·q. */
  async queryMemories(body: QueryMemoriesBody): Promise<Memory[]> {
    return unwrap(await this.api.POST('/v1/memories/query', { body }));
  }

  /** The task with the retrieved memories formatted into it, and those memories. */
  async augmentWithMemories(body: QueryMemoriesBody): Promise<AugmentedTask> {
    return unwrap(await this.api.POST('/v1/memories/augment', { body }));
  }

  /** Records a run; returns at once (processing happens in the background). */
  async createTrace(body: CreateTraceBody): Promise<TraceSubmission> {
    return unwrap(await this.api.POST('/v1/traces', { body }));
  }

  async getTrace(traceId: string): Promise<Trace> {
    return unwrap(await this.api.GET('/v1/traces/{id}', { params: { path: { id: traceId } } }));
  }

  /** One page of traces, newest first (see listTracesPage for the cursor and total). */
  async listTraces(query: ListTracesQuery = {}): Promise<Trace[]> {
    return (await this.listTracesPage(query)).traces;
  }

  /** One page with its X-Total-Count and X-Next-Cursor (pass it back as `cursor`; undefined on the last page). */
  async listTracesPage(query: ListTracesQuery = {}): Promise<{ traces: Trace[]; total: number; nextCursor: string | undefined }> {
    const result = await this.api.GET('/v1/traces', { params: { query } });
    const traces = unwrap(result);
    return {
      traces,
      total: Number(result.response.headers.get('x-total-count') ?? traces.length),
      nextCursor: result.response.headers.get('x-next-cursor') ?? undefined,
    };
  }

  /** A deferred review; a second review answers 409 (`conflict`), another key's open lease 409 (`trace_leased`). */
  async reviewTrace(traceId: string, review: ReviewBody): Promise<Trace> {
    return unwrap(await this.api.POST('/v1/traces/{id}/review', { params: { path: { id: traceId } }, body: review }));
  }

  /**
   * Polls until the trace's work is over: reviewed (memory written) or failed for good; with
   * `requireReviewed: false`, a trace without a review returns as soon as it is stored.
   */
  async waitForTrace(traceId: string, options: WaitOptions = {}): Promise<Trace> {
    const interval = options.pollIntervalMs ?? 250;
    const timeout = options.waitTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      const trace = await this.getTrace(traceId);
      if (trace.ingest_status === 'failed') throw new ReflectTraceFailedError(trace);
      const settled = trace.review_status === 'reviewed' || (!options.requireReviewed && !trace.review && trace.ingest_status === 'completed');
      if (settled) return trace;
      if (Date.now() + interval > deadline) throw new ReflectTimeoutError(traceId, timeout);
      await sleep(interval);
    }
  }

  /** createTrace, then waitForTrace: with a review_result, returns once its memory exists. */
  async createTraceAndWait(body: CreateTraceBody, options: Omit<WaitOptions, 'requireReviewed'> = {}): Promise<Trace> {
    const submission = await this.createTrace(body);
    return this.waitForTrace(submission.id, { ...options, requireReviewed: Boolean(body.review_result) });
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return unwrap(await this.api.GET('/v1/api-keys'));
  }

  /** The plaintext `api_key` is in the answer only, once. */
  async createApiKey(body: CreateApiKeyBody): Promise<CreatedApiKey> {
    return unwrap(await this.api.POST('/v1/api-keys', { body }));
  }

  async revokeApiKey(keyId: string): Promise<ApiKeyInfo> {
    return unwrap(await this.api.POST('/v1/api-keys/{id}/revoke', { params: { path: { id: keyId } } }));
  }
}
