/**
 * Every API call the console makes, in one place, so pages never build URLs. They run through
 * the public API only (the same routes an agent or SDK uses).
 */
import { request, type Query } from './http.ts';
import { session } from './session.ts';
import type {
  ApiKeyInfo,
  BulkReviewResult,
  CreatedApiKey,
  Directive,
  LlmCall,
  Memory,
  MentalModel,
  Project,
  QValueChange,
  ReflectAnswer,
  ReviewResult,
  Stats,
  Trace,
} from './types.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total: number | null;
}

function page<T>(answer: { data: T[]; headers: Headers }): Page<T> {
  const total = answer.headers.get('x-total-count');
  return { items: answer.data, nextCursor: answer.headers.get('x-next-cursor'), total: total === null ? null : Number(total) };
}

export interface TraceFilter {
  review_status?: string;
  ingest_status?: string;
  model?: string;
  metadata_key?: string;
  metadata_value?: string;
  created_after?: string;
  created_before?: string;
  q?: string;
}

const bank = () => `/v1/default/banks/${encodeURIComponent(session.project() ?? 'default')}`;

export const api = {
  /** Checks a key before keeping it: the projects it may open. */
  projects: async (key?: string) => (await request<Project[]>('GET', '/v1/projects', { key })).data,

  stats: async (days = 30) => (await request<Stats>('GET', '/v1/stats', { query: { days } })).data,

  traces: async (filter: TraceFilter, cursor: string | null, limit = 50) =>
    page(await request<Trace[]>('GET', '/v1/traces', { query: { ...(filter as Query), cursor, limit, include_trajectory: false } })),
  trace: async (id: string) => (await request<Trace>('GET', `/v1/traces/${encodeURIComponent(id)}`)).data,
  review: async (id: string, body: { result: ReviewResult; feedback_text?: string | null; alpha?: number | null }) =>
    (await request<Trace>('POST', `/v1/traces/${encodeURIComponent(id)}/review`, { body })).data,
  retry: async (id: string) => (await request<Trace>('POST', `/v1/traces/${encodeURIComponent(id)}/retry`)).data,
  bulkReview: async (body: { result: ReviewResult; feedback_text?: string; alpha?: number; trace_ids?: string[]; filter?: TraceFilter; limit?: number }) =>
    (await request<BulkReviewResult>('POST', '/v1/traces/bulk-review', { body })).data,

  /** The next trace to review (leased to this key), or null when the queue is empty. */
  claim: async (position: { after?: string; before?: string } = {}) => {
    const answer = await request<{ trace: Trace; lease_expires_at: string } | undefined>('POST', '/v1/review-queue/claim', { body: position });
    return answer.status === 204 || !answer.data ? null : answer.data;
  },
  releaseClaim: async () => void (await request('DELETE', '/v1/review-queue/claim')),

  memories: async (query: { sort: string; order: string; limit: number; offset: number }) =>
    page(await request<Memory[]>('GET', '/v1/memories', { query })),
  queryMemories: async (body: { task: string; limit: number; lambda_: number; similarity_threshold: number | null }) =>
    (await request<Memory[]>('POST', '/v1/memories/query', { body })).data,
  memory: async (id: string) => (await request<Memory>('GET', `/v1/memories/${encodeURIComponent(id)}`)).data,
  updateMemory: async (id: string, body: Partial<Memory>) => (await request<Memory>('PATCH', `/v1/memories/${encodeURIComponent(id)}`, { body })).data,
  deleteMemory: async (id: string) => void (await request('DELETE', `/v1/memories/${encodeURIComponent(id)}`)),
  memoryHistory: async (id: string) => (await request<QValueChange[]>('GET', `/v1/memories/${encodeURIComponent(id)}/history`)).data,

  keys: async () => (await request<ApiKeyInfo[]>('GET', '/v1/api-keys')).data,
  createKey: async (body: { label: string; scopes: string[]; environment: string }) => (await request<CreatedApiKey>('POST', '/v1/api-keys', { body })).data,
  revokeKey: async (id: string) => (await request<ApiKeyInfo>('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`)).data,

  llmCalls: async (filter: { purpose?: string; outcome?: string }, cursor: string | null) =>
    page(await request<LlmCall[]>('GET', '/v1/llm-calls', { query: { ...filter, cursor, limit: 100 } })),

  mentalModels: async () => (await request<{ items: MentalModel[] }>('GET', `${bank()}/mental-models`)).data.items,
  createMentalModel: async (body: { name: string; source_query: string; content?: string; tags?: string[] }) =>
    (await request<MentalModel>('POST', `${bank()}/mental-models`, { body })).data,
  updateMentalModel: async (id: string, body: Partial<MentalModel>) =>
    (await request<MentalModel>('PATCH', `${bank()}/mental-models/${encodeURIComponent(id)}`, { body })).data,
  refreshMentalModel: async (id: string) => void (await request('POST', `${bank()}/mental-models/${encodeURIComponent(id)}/refresh`)),
  deleteMentalModel: async (id: string) => void (await request('DELETE', `${bank()}/mental-models/${encodeURIComponent(id)}`)),
  directives: async () => (await request<{ items: Directive[] }>('GET', `${bank()}/directives`)).data.items,
  createDirective: async (body: { name: string; content: string; priority: number; is_active: boolean; tags?: string[] }) =>
    (await request<Directive>('POST', `${bank()}/directives`, { body })).data,
  updateDirective: async (id: string, body: Partial<Directive>) =>
    (await request<Directive>('PATCH', `${bank()}/directives/${encodeURIComponent(id)}`, { body })).data,
  deleteDirective: async (id: string) => void (await request('DELETE', `${bank()}/directives/${encodeURIComponent(id)}`)),
  reflect: async (body: { query: string; budget: string; tags?: string[] }) =>
    (await request<ReflectAnswer>('POST', `${bank()}/reflect`, { body: { ...body, include: { facts: {}, tool_calls: { output: true } } } })).data,
};
