import { sql } from 'drizzle-orm';
import {
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

/**
 * An untyped pgvector column: memories of several embedding models (and so several dimensions)
 * live in one table; each model gets its own partial HNSW index on `embedding::vector(d)`.
 */
export const anyVector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (v) => `[${v.join(',')}]`,
  fromDriver: (v) => JSON.parse(v) as number[],
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** The id the operator chose at bootstrap (`user_id`), e.g. `user-1`. */
  externalId: text('external_id').notNull().unique(),
  createdAt: createdAt(),
});

export const projects = pgTable(
  'projects',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerUserId: uuid('owner_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    slug: text('slug').notNull(),
    /** Merge near-duplicate memories at review time; null = the server's default (REFLECT_CONSOLIDATION). */
    consolidationEnabled: boolean('consolidation_enabled'),
    /** Task-embedding cosine at or above which a new memory merges; null = the server's default. */
    consolidationThreshold: doublePrecision('consolidation_threshold'),
    /** The server-side judge (src/judge/): off unless switched on for the project. */
    judgeEnabled: boolean('judge_enabled').notNull().default(false),
    /** What the judge checks a run against (free text, given to the LLM). */
    judgeRubric: text('judge_rubric'),
    /** The judge's model; null = the server's REFLECT_LLM_MODEL. */
    judgeModel: text('judge_model'),
    /** The learning rate its verdicts use; null = 0.1. */
    judgeAlpha: doublePrecision('judge_alpha'),
    /** Judge only traces whose metadata contains all of these pairs; null = every unreviewed trace. */
    judgeMetadataFilter: jsonb('judge_metadata_filter').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('projects_owner_slug_key').on(t.ownerUserId, t.slug)],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The public part of the key (`rf_live_<keyId>_…`), used to find the row. */
    keyId: text('key_id').notNull().unique(),
    label: text('label').notNull(),
    environment: text('environment').notNull(),
    /** SHA-256 of the secret, hex. The secret itself is never stored. */
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    isMaster: boolean('is_master').notNull().default(false),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_keys_project_idx').on(t.projectId), index('api_keys_user_idx').on(t.userId)],
);

export const traces = pgTable(
  'traces',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    task: text('task').notNull(),
    trajectory: jsonb('trajectory').$type<Record<string, unknown>[]>().notNull(),
    finalResponse: text('final_response').notNull(),
    retrievedMemoryIds: uuid('retrieved_memory_ids').array().notNull().default(sql`'{}'`),
    model: text('model'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    referenceContext: text('reference_context'),
    alpha: doublePrecision('alpha'),
    reviewStatus: text('review_status').notNull().default('pending'),
    ingestStatus: text('ingest_status').notNull(),
    ingestAttempts: integer('ingest_attempts').notNull().default(0),
    lastIngestError: text('last_ingest_error'),
    /** Secrets replaced by placeholders before the trace was stored: {kind: count}. */
    redactions: jsonb('redactions').$type<Record<string, number>>().notNull().default({}),
    /** Bumped by every retry request, so each round gets a fresh job id. */
    ingestRound: integer('ingest_round').notNull().default(0),
    reviewResult: text('review_result'),
    reviewFeedback: text('review_feedback'),
    reviewAlpha: doublePrecision('review_alpha'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true, mode: 'date' }),
    /** Who gave the review in force: `human` (a person or code, over the API) or `judge` (the server's LLM judge). */
    reviewSource: text('review_source').$type<'human' | 'judge'>(),
    /** When a human review replaced the judge's (its Q-updates corrected, see src/judge/override). */
    overriddenAt: timestamp('overridden_at', { withTimezone: true, mode: 'date' }),
    /** The judge's work on this trace: null = not judged; queued, judging, judged, failed or skipped. */
    judgeStatus: text('judge_status').$type<'queued' | 'judging' | 'judged' | 'failed' | 'skipped'>(),
    /** The judge's own verdict and reason, kept after a human overrides it (agreement statistics). */
    judgeResult: text('judge_result').$type<'pass' | 'fail'>(),
    judgeReason: text('judge_reason'),
    judgeModel: text('judge_model'),
    judgedAt: timestamp('judged_at', { withTimezone: true, mode: 'date' }),
    judgeAttempts: integer('judge_attempts').notNull().default(0),
    judgeError: text('judge_error'),
    createdMemoryId: uuid('created_memory_id'),
    /** The key that reviewed the trace over the API (null for a review sent with the trace by an older row). */
    reviewedByKeyId: uuid('reviewed_by_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    /** The review queue's lease: the key that has the trace open, until `lease_expires_at`. */
    leaseKeyId: uuid('lease_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The list's keyset order: (created_at, id) descending within a project. NULLS FIRST is what a
    // plain `ORDER BY … DESC` means; drizzle's bare desc() writes NULLS LAST, which the planner
    // cannot use for that order (it sorted all of a project's traces instead).
    index('traces_project_created_id_idx').on(t.projectId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // The review queue (oldest first) and its count: only traces still without a review.
    index('traces_review_queue_idx')
      .on(t.projectId, t.createdAt, t.id)
      .where(sql`review_result is null`),
    // The overview's reviews per day.
    index('traces_project_reviewed_idx')
      .on(t.projectId, t.reviewedAt)
      .where(sql`review_result is not null`),
    // The sweeper's scan: only the few traces still waiting for the worker.
    // The judge's agreement statistics: judged traces of a project by time.
    index('traces_project_judged_idx')
      .on(t.projectId, t.judgedAt)
      .where(sql`judge_result is not null`),
    index('traces_ingest_pending_idx')
      .on(t.ingestStatus, t.updatedAt)
      .where(sql`ingest_status in ('queued', 'processing')`),
  ],
);

export const memories = pgTable(
  'memories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    task: text('task').notNull(),
    reflection: text('reflection').notNull(),
    qValue: doublePrecision('q_value').notNull().default(0.5),
    success: boolean('success'),
    summary: text('summary').notNull().default(''),
    keyMistake: text('key_mistake').notNull().default(''),
    correctAction: text('correct_action').notNull().default(''),
    guidance: text('guidance').notNull().default(''),
    applicableTools: text('applicable_tools').array().notNull().default(sql`'{}'`),
    toolsUsed: text('tools_used').array().notNull().default(sql`'{}'`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    /** `llm` or `template`: how the reflection was written. Null for agent-authored memories. */
    reflectionSource: text('reflection_source'),
    /**
     * Hindsight's fact types: `experience` (a lesson from a run: every reflection of a trace, and
     * the default) or `world` (a fact about the world an agent stored with POST /v1/memories).
     */
    factType: text('fact_type').$type<FactType>().notNull().default('experience'),
    embedding: anyVector('embedding').notNull(),
    embeddingModel: text('embedding_model').notNull(),
    sourceTraceId: uuid('source_trace_id').references(() => traces.id, { onDelete: 'set null' }),
    /** Times a reviewed run that retrieved this memory moved its Q (kept by the learning statement). */
    useCount: integer('use_count').notNull().default(0),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    /** Runs whose lessons this memory holds: 1, plus one per near-duplicate merged into it. */
    evidenceCount: integer('evidence_count').notNull().default(1),
    /** Every trace whose lesson went into this memory, oldest first (`source_trace_id` is the first). */
    sourceTraceIds: uuid('source_trace_ids').array().notNull().default(sql`'{}'`),
    /** Set while the memory is invalid: never retrieved, still listed. Cleared by a restore. */
    invalidatedAt: timestamp('invalidated_at', { withTimezone: true, mode: 'date' }),
    invalidReason: text('invalid_reason'),
    /** Who invalidated it: the key's id and its label at the time (the key may be deleted later). */
    invalidatedByKeyId: uuid('invalidated_by_key_id'),
    invalidatedByLabel: text('invalidated_by_label'),
    /** Not retrieved from this moment on; null = never expires. */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // Not declared here: `search_vector`, a stored tsvector of task and reflection with a GIN index
  // for the full-text half of reflect's hybrid search (migration 0003, SQL in memorySearch.ts).
  // Declaring it would make every `select()` of a memory read it back for nothing.
  (t) => [
    index('memories_project_created_idx').on(t.projectId, t.createdAt.desc().nullsFirst()),
    index('memories_project_q_idx').on(t.projectId, t.qValue),
    // At most one memory per trace, whatever the retries.
    uniqueIndex('memories_source_trace_key').on(t.sourceTraceId),
  ],
);

/**
 * A mental model (Hindsight): a standing question about a project (`source_query`) with a stored,
 * refreshable answer (`content`). Reflect searches them before raw memories. Ids are chosen by
 * the caller or random, unique within a project.
 */
export const mentalModels = pgTable(
  'mental_models',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    id: text('id').notNull().default(sql`gen_random_uuid()::text`),
    name: text('name').notNull(),
    sourceQuery: text('source_query').notNull(),
    content: text('content').notNull().default(''),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    /** Bounds the answer a refresh writes. */
    maxTokens: integer('max_tokens').notNull().default(2048),
    /** Of name, source query and content: what reflect's mental-model search compares against. */
    embedding: anyVector('embedding').notNull(),
    embeddingModel: text('embedding_model').notNull(),
    lastRefreshedAt: timestamp('last_refreshed_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.id] })],
);

/** A directive (Hindsight): a standing rule every reflect of the project puts in its prompt. */
export const directives = pgTable(
  'directives',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    content: text('content').notNull(),
    /** Higher first in the prompt. */
    priority: integer('priority').notNull().default(0),
    isActive: boolean('is_active').notNull().default(true),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('directives_project_idx').on(t.projectId)],
);

/** One row per Q-value change made by the learning loop: the audit trail behind every q. */
export const qValueUpdates = pgTable(
  'q_value_updates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    memoryId: uuid('memory_id')
      .notNull()
      .references(() => memories.id, { onDelete: 'cascade' }),
    traceId: uuid('trace_id')
      .notNull()
      .references(() => traces.id, { onDelete: 'cascade' }),
    qBefore: doublePrecision('q_before').notNull(),
    qAfter: doublePrecision('q_after').notNull(),
    reward: doublePrecision('reward').notNull(),
    alpha: doublePrecision('alpha').notNull(),
    /** Whose verdict the reward is: `judge` until a human overrides it, then `human`. */
    reviewSource: text('review_source').$type<'human' | 'judge'>().notNull().default('human'),
    /** The judge's update this row replaced after a human override: {reward, alpha, q_before, q_after}. */
    overridden: jsonb('overridden').$type<Record<string, number>>(),
    createdAt: createdAt(),
  },
  // A review applies to each memory once.
  (t) => [uniqueIndex('q_value_updates_memory_trace_key').on(t.memoryId, t.traceId)],
);

/**
 * One row per LLM call the server made (reflection, reflect agent, mental-model refresh): cost
 * visibility. Written by the one recorder in src/llm/usage.ts; pruned after the retention period.
 */
export const llmCalls = pgTable(
  'llm_calls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id').references(() => projects.id, { onDelete: 'cascade' }),
    purpose: text('purpose').notNull(),
    model: text('model').notNull(),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
    latencyMs: integer('latency_ms').notNull(),
    outcome: text('outcome').$type<'ok' | 'error'>().notNull(),
    /** Short and without secrets (HTTP status and error type, or the connection failure). */
    error: text('error'),
    traceId: uuid('trace_id').references(() => traces.id, { onDelete: 'set null' }),
    requestId: text('request_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('llm_calls_project_created_idx').on(t.projectId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // Retention pruning deletes by age across projects.
    index('llm_calls_created_idx').on(t.createdAt),
  ],
);

/**
 * Every change to a memory other than a Q-update (those stay in q_value_updates): edit,
 * invalidate, restore, merge. With the Q-updates it makes a memory's history.
 */
export const memoryEvents = pgTable(
  'memory_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    memoryId: uuid('memory_id')
      .notNull()
      .references(() => memories.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<MemoryEventKind>().notNull(),
    /** The trace behind the change (a merge), if any. */
    traceId: uuid('trace_id').references(() => traces.id, { onDelete: 'set null' }),
    /** The key that made the change over the API, and its label then; null for the learning loop. */
    actorKeyId: uuid('actor_key_id'),
    actorLabel: text('actor_label'),
    /** The memory's Q at the time (a merge or an edit keeps it). */
    qValue: doublePrecision('q_value').notNull(),
    /** What changed: the reason, the fields before and after, the evidence count. */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('memory_events_memory_idx').on(t.memoryId, t.createdAt)],
);

/**
 * A project's Skill: one Markdown guide (YAML front-matter) distilled from its best memories.
 * Every build or refinement is a new version; all are kept. `building` until the background
 * build finishes (`ready`) or fails (`failed`, with `error`).
 */
export const skills = pgTable(
  'skills',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    status: text('status').$type<'building' | 'ready' | 'failed'>().notNull().default('building'),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** The whole guide: front-matter and body. */
    markdown: text('markdown').notNull().default(''),
    /** `llm` or `template`: how the body was written. */
    source: text('source'),
    /** Counts and ids of the memories it was built from. */
    builtFrom: jsonb('built_from').$type<Record<string, unknown>>().notNull().default({}),
    /** What the caller asked a refinement to change. */
    instructions: text('instructions'),
    error: text('error'),
    requestedByKeyId: uuid('requested_by_key_id'),
    requestedByLabel: text('requested_by_label'),
    createdAt: createdAt(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('skills_project_version_key').on(t.projectId, t.version)],
);

/** `imported_q_update`: a Q-update brought in by a bank import (its trace is not in this database). */
/**
 * `review_override`: a human review replaced the judge's and this memory's Q was corrected;
 * `rewrite`: the lesson was rewritten from a human verdict that differs from the judge's;
 * `detach`: a trace's lesson left a merged memory (its verdict changed).
 */
export const MEMORY_EVENT_KINDS = ['edit', 'invalidate', 'restore', 'merge', 'imported_q_update', 'review_override', 'rewrite', 'detach'] as const;
export type MemoryEventKind = (typeof MEMORY_EVENT_KINDS)[number];

export const FACT_TYPES = ['world', 'experience', 'observation'] as const;
export type FactType = (typeof FACT_TYPES)[number];

export type UserRow = typeof users.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type TraceRow = typeof traces.$inferSelect;
export type MemoryRow = typeof memories.$inferSelect;
export type MentalModelRow = typeof mentalModels.$inferSelect;
export type DirectiveRow = typeof directives.$inferSelect;
export type QValueUpdateRow = typeof qValueUpdates.$inferSelect;
export type MemoryEventRow = typeof memoryEvents.$inferSelect;
export type SkillRow = typeof skills.$inferSelect;
export type LlmCallRow = typeof llmCalls.$inferSelect;
