/**
 * Every API call the console makes, in one place, so pages never build URLs. All go through the
 * public API with the typed client generated from the server's OpenAPI document.
 */
import { call, reflect, type paths } from './client.ts';
import { session } from './session.ts';
import type { Memory, ReviewResult } from './types.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total: number | null;
}

function page<T>(answer: { data: T[]; headers: Headers }): Page<T> {
  const total = answer.headers.get('x-total-count');
  return { items: answer.data, nextCursor: answer.headers.get('x-next-cursor'), total: total === null ? null : Number(total) };
}

type BulkReviewBody = paths['/v1/traces/bulk-review']['post']['requestBody']['content']['application/json'];
/** The trace list's filters: the server's own, as the bulk review's `filter` declares them. */
export type TraceFilter = Extract<BulkReviewBody, { filter: unknown }>['filter'];

/** The Hindsight side addresses the project as a bank: its slug; /v1/projects/{project}/… paths too. */
const bank = () => ({ bank_id: session.project() ?? 'default' });
const project = () => ({ path: { project: session.project() ?? 'default' } });

type JudgeSettingsBody = paths['/v1/projects/{project}/judge']['patch']['requestBody']['content']['application/json'];
const id = (value: string) => ({ path: { id: value } });

export const api = {
  /** Also checks a key before keeping it: the projects it may open. */
  projects: async (key?: string) => (await call(reflect(key).api.GET('/v1/projects'))).data,

  stats: async (days = 30) => (await call(reflect().api.GET('/v1/stats', { params: { query: { days } } }))).data,

  traces: async (filter: TraceFilter, cursor: string | null, limit = 50) =>
    page(await call(reflect().api.GET('/v1/traces', { params: { query: { ...filter, cursor: cursor ?? undefined, limit, include_trajectory: 'false' } } }))),
  trace: async (traceId: string) => (await call(reflect().api.GET('/v1/traces/{id}', { params: id(traceId) }))).data,
  review: async (traceId: string, body: { result: ReviewResult; feedback_text?: string | null; alpha?: number | null }) =>
    (await call(reflect().api.POST('/v1/traces/{id}/review', { params: id(traceId), body }))).data,
  retry: async (traceId: string) => (await call(reflect().api.POST('/v1/traces/{id}/retry', { params: id(traceId) }))).data,
  /** Reviews the given traces, or (with `filter`) every trace matching it, up to `limit`. */
  bulkReview: async (
    body: { result: ReviewResult; feedback_text?: string } & ({ trace_ids: string[] } | { filter: TraceFilter; limit?: number }),
  ) => (await call(reflect().api.POST('/v1/traces/bulk-review', { body }))).data,

  /** The next trace to review (leased to this key), or null when the queue is empty. */
  claim: async (position: { after?: string; before?: string } = {}) => {
    const answer = await call(reflect().api.POST('/v1/review-queue/claim', { body: position }));
    return answer.status === 204 || !answer.data ? null : answer.data;
  },
  releaseClaim: async () => void (await call(reflect().api.DELETE('/v1/review-queue/claim'))),

  memories: async (query: { sort: 'q_value' | 'created_at' | 'last_used_at'; order: 'asc' | 'desc'; limit: number; offset: number }) =>
    page(await call(reflect().api.GET('/v1/memories', { params: { query } }))),
  queryMemories: async (body: { task: string; limit: number; lambda_: number; similarity_threshold: number | null }) =>
    (await call(reflect().api.POST('/v1/memories/query', { body }))).data,
  memory: async (memoryId: string) => (await call(reflect().api.GET('/v1/memories/{id}', { params: id(memoryId) }))).data,
  updateMemory: async (memoryId: string, body: Record<string, unknown>) =>
    (await call(reflect().api.PATCH('/v1/memories/{id}', { params: id(memoryId), body }))).data,
  deleteMemory: async (memoryId: string) => void (await call(reflect().api.DELETE('/v1/memories/{id}', { params: id(memoryId) }))),
  memoryHistory: async (memoryId: string) => (await call(reflect().api.GET('/v1/memories/{id}/history', { params: id(memoryId) }))).data,
  invalidateMemory: async (memoryId: string, reason: string) =>
    (await call(reflect().api.POST('/v1/memories/{id}/invalidate', { params: id(memoryId), body: { reason } }))).data as Memory,
  restoreMemory: async (memoryId: string) =>
    (await call(reflect().api.POST('/v1/memories/{id}/restore', { params: id(memoryId), body: {} }))).data as Memory,

  /** The latest ready Skill, or a given version (any status). */
  skill: async (version?: number) => (await call(reflect().api.GET('/v1/skill', { params: { query: { version } } }))).data,
  skillVersions: async () => (await call(reflect().api.GET('/v1/skill/versions'))).data,
  /** Builds (or refines into) a new version in the background; the answer is the version to poll. */
  buildSkill: async (instructions: string | null) => (await call(reflect().api.POST('/v1/skill', { body: { instructions } }))).data,

  /** The project's judge: its settings (PATCH: null returns one to the default) and its agreement with people. */
  judgeSettings: async () => (await call(reflect().api.GET('/v1/projects/{project}/judge', { params: project() }))).data,
  updateJudgeSettings: async (body: JudgeSettingsBody) =>
    (await call(reflect().api.PATCH('/v1/projects/{project}/judge', { params: project(), body }))).data,
  /** Queues the judge for the newest `limit` unreviewed traces that were waiting before it was switched on. */
  queueJudgeBacklog: async (limit: number) =>
    (await call(reflect().api.POST('/v1/projects/{project}/judge/backlog', { params: project(), body: { limit } }))).data,
  judgeAgreement: async (window: { since?: string; until?: string } = {}) =>
    (await call(reflect().api.GET('/v1/projects/{project}/judge/agreement', { params: { ...project(), query: window } }))).data,

  keys: async () => (await call(reflect().api.GET('/v1/api-keys'))).data,
  createKey: async (body: { label: string; scopes: ('memories:read' | 'memories:write' | 'traces:read' | 'traces:write' | 'keys:manage')[]; environment: 'live' | 'test' }) =>
    (await call(reflect().api.POST('/v1/api-keys', { body }))).data,
  revokeKey: async (keyId: string) => (await call(reflect().api.DELETE('/v1/api-keys/{id}', { params: id(keyId) }))).data,

  llmCalls: async (filter: { purpose?: string; outcome?: 'ok' | 'error' }, cursor: string | null) =>
    page(await call(reflect().api.GET('/v1/llm-calls', { params: { query: { ...filter, cursor: cursor ?? undefined, limit: 100 } } }))),

  mentalModels: async () => (await call(reflect().api.GET('/v1/default/banks/{bank_id}/mental-models', { params: { path: bank() } }))).data.items,
  createMentalModel: async (body: { name: string; source_query: string; tags?: string[] }) =>
    (await call(reflect().api.POST('/v1/default/banks/{bank_id}/mental-models', { params: { path: bank() }, body }))).data,
  updateMentalModel: async (modelId: string, body: { name?: string; source_query?: string; content?: string; tags?: string[] }) =>
    (await call(reflect().api.PATCH('/v1/default/banks/{bank_id}/mental-models/{mental_model_id}', { params: { path: { ...bank(), mental_model_id: modelId } }, body }))).data,
  refreshMentalModel: async (modelId: string) =>
    void (await call(reflect().api.POST('/v1/default/banks/{bank_id}/mental-models/{mental_model_id}/refresh', { params: { path: { ...bank(), mental_model_id: modelId } } }))),
  deleteMentalModel: async (modelId: string) =>
    void (await call(reflect().api.DELETE('/v1/default/banks/{bank_id}/mental-models/{mental_model_id}', { params: { path: { ...bank(), mental_model_id: modelId } } }))),
  directives: async () => (await call(reflect().api.GET('/v1/default/banks/{bank_id}/directives', { params: { path: bank() } }))).data.items,
  createDirective: async (body: { name: string; content: string; priority: number; is_active: boolean; tags?: string[] }) =>
    (await call(reflect().api.POST('/v1/default/banks/{bank_id}/directives', { params: { path: bank() }, body }))).data,
  updateDirective: async (directiveId: string, body: { name?: string; content?: string; priority?: number; is_active?: boolean }) =>
    (await call(reflect().api.PATCH('/v1/default/banks/{bank_id}/directives/{directive_id}', { params: { path: { ...bank(), directive_id: directiveId } }, body }))).data,
  deleteDirective: async (directiveId: string) =>
    void (await call(reflect().api.DELETE('/v1/default/banks/{bank_id}/directives/{directive_id}', { params: { path: { ...bank(), directive_id: directiveId } } }))),
  reflect: async (body: { query: string; budget: 'low' | 'mid' | 'high'; tags?: string[] }) =>
    (await call(reflect().api.POST('/v1/default/banks/{bank_id}/reflect', { params: { path: bank() }, body: { ...body, include: { facts: {}, tool_calls: { output: true } } } }))).data,
};
