import { z } from 'zod';
import { jsonObject, nullableTimestamp, timestamp } from '../http/schemas.js';
import { FACT_TYPES } from '../db/schema.js';
import { metadata, metadataInput } from '../traces/models.js';

/** What an agent may store directly: observations only come from consolidation, which this server does not do. */
const storableFactType = z.enum(['world', 'experience']);

const tag = z.string().min(1).max(200);

export const memoryState = z.enum(['active', 'invalid', 'expired']);
export type MemoryState = z.infer<typeof memoryState>;

/** A key as history and state show it: its id (as GET /v1/api-keys lists it) and its label then. */
export const actorKey = z.object({ key_id: z.uuid(), label: z.string() }).meta({ id: 'ActorKey' });

/** An ISO 8601 timestamp with a zone (`Z` or an offset), as a Date. */
const expiresAt = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .nullish()
  .describe('From this moment on the memory is no longer retrieved; null = never');

export const memory = z
  .object({
    id: z.uuid(),
    task: z.string(),
    reflection: z.string(),
    q_value: z.number(),
    similarity: z.number(),
    score: z.number(),
    success: z.boolean().nullable(),
    summary: z.string(),
    key_mistake: z.string(),
    correct_action: z.string(),
    guidance: z.string(),
    applicable_tools: z.array(z.string()),
    tools_used: z.array(z.string()),
    metadata,
    tags: z.array(z.string()),
    fact_type: z.enum(FACT_TYPES).describe('"experience": a lesson from a run (the default); "world": a stored fact'),
    source_trace_id: z.uuid().nullable(),
    source_trace_ids: z.array(z.uuid()).describe('Every trace whose lesson went into this memory (near-duplicates are merged)'),
    evidence_count: z.number().int().describe('Runs this memory holds the lesson of: 1, plus one per merged near-duplicate'),
    state: memoryState.describe('"active": retrieved; "invalid": invalidated (see invalid_reason); "expired": past expires_at. Only active memories are retrieved'),
    invalid_reason: z.string().nullable(),
    invalidated_at: nullableTimestamp,
    invalidated_by: actorKey.nullable().describe('The key that invalidated it'),
    expires_at: nullableTimestamp,
    use_count: z.number().int().describe('Times a reviewed run that retrieved this memory moved its Q-value'),
    last_used_at: nullableTimestamp.describe('When that last happened'),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Memory' });
export type MemoryWire = z.infer<typeof memory>;

const nonBlank = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => s.trim().length > 0, { message: 'Must not be empty' });

export const createMemoryBody = z
  .object({
    task: nonBlank(100_000),
    reflection: nonBlank(200_000),
    result: z
      .enum(['pass', 'fail', 'success', 'failure'])
      .nullish()
      .describe('Outcome the lesson came from; null when unknown'),
    metadata: metadataInput.nullish(),
    tags: z.array(tag).max(100).nullish(),
    fact_type: storableFactType.nullish().describe('Default "experience"; "world" for a fact rather than a lesson'),
    summary: z.string().max(100_000).nullish(),
    key_mistake: z.string().max(100_000).nullish(),
    correct_action: z.string().max(100_000).nullish(),
    guidance: z.string().max(100_000).nullish(),
    applicable_tools: z.array(z.string().max(200)).max(200).nullish(),
    tools_used: z.array(z.string().max(200)).max(200).nullish(),
    expires_at: expiresAt,
  })
  .meta({
    example: {
      task: 'Count the orders placed in March',
      reflection: 'Filter on order_date before counting; the table holds every month.',
      result: 'pass',
      tags: ['sql'],
    },
  });
export type CreateMemoryBody = z.infer<typeof createMemoryBody>;

export const listMemoriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  sort: z.enum(['created_at', 'q_value', 'last_used_at']).default('created_at').meta({ description: 'last_used_at: never-used memories come last either way' }),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type ListMemoriesQuery = z.infer<typeof listMemoriesQuery>;

const unitInterval = z.number().min(0).max(1);

/** Each filter key is a condition of its own in the query. */
export const METADATA_FILTER_MAX_KEYS = 50;

/** `lambda` is accepted as an alias of `lambda_` (the SDK's Python-safe name). */
export const queryMemoriesBody = z
  .object({
    task: nonBlank(100_000),
    limit: z.number().int().min(1).max(100).default(10),
    lambda_: unitInterval.optional().describe('Blend: 0 = pure similarity, 1 = pure Q-value (default REFLECT_DEFAULT_LAMBDA, 0.5)'),
    lambda: unitInterval.optional().describe('Alias of lambda_'),
    metadata_filter: jsonObject(METADATA_FILTER_MAX_KEYS)
      .nullish()
      .describe(`Metadata conditions, all of which must hold; at most ${METADATA_FILTER_MAX_KEYS} keys`),
    similarity_threshold: z
      .number()
      .min(-1)
      .max(1)
      .nullish()
      .describe('Drop memories less similar than this; null = no threshold; omitted = the server\'s relevance gate (REFLECT_DEFAULT_SIMILARITY_*)'),
    mmr_lambda: unitInterval.default(0.7).describe('1 = no diversification'),
  })
  // lambda_ stays undefined when not given: the service applies REFLECT_DEFAULT_LAMBDA.
  .transform(({ lambda, lambda_, ...rest }) => ({ ...rest, lambda_: lambda_ ?? lambda }))
  .meta({
    example: { task: 'Count the orders placed in April', limit: 5, lambda_: 0.5, metadata_filter: { tags: 'sql' } },
  });
export type QueryMemoriesBody = z.output<typeof queryMemoriesBody>;

export const augmentedTaskResponse = z.object({ augmented_task: z.string(), memories: z.array(memory) }).meta({ id: 'AugmentedTask' });

export const updateMemoryBody = z
  .object({
    task: nonBlank(100_000),
    reflection: nonBlank(200_000),
    metadata: metadataInput,
    tags: z.array(tag).max(100),
    fact_type: storableFactType,
    summary: z.string().max(100_000),
    key_mistake: z.string().max(100_000),
    correct_action: z.string().max(100_000),
    guidance: z.string().max(100_000),
    applicable_tools: z.array(z.string().max(200)).max(200),
    tools_used: z.array(z.string().max(200)).max(200),
    expires_at: expiresAt,
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'Give at least one field to change' })
  .meta({ example: { reflection: 'Filter on order_date first, then count.', tags: ['sql', 'dates'] } });
export type UpdateMemoryBody = z.infer<typeof updateMemoryBody>;

export const invalidateMemoryBody = z
  .object({ reason: nonBlank(2_000).describe('Why the memory is wrong or no longer applies') })
  .meta({ example: { reason: 'The orders table moved; this lesson names the old one.' } });

export const restoreMemoryBody = z.object({ reason: z.string().max(2_000).nullish() }).meta({ example: { reason: 'Invalidated by mistake' } });

export const MEMORY_CHANGE_KINDS = ['q_update', 'edit', 'invalidate', 'restore', 'merge', 'imported_q_update', 'review_override', 'rewrite', 'detach'] as const;

/**
 * One change to a memory. Q-updates (kind `q_update`) have every field of the original
 * QValueChange, and so do imported ones and review overrides (the correction's before and
 * after, the human's reward and alpha); the other kinds have trace_id only when a trace caused
 * them (merge, rewrite, detach), reward and alpha null, and q_before = q_after (they keep the Q-value).
 */
export const qValueChange = z
  .object({
    kind: z.enum(MEMORY_CHANGE_KINDS),
    memory_id: z.uuid(),
    trace_id: z.uuid().nullable().describe('The reviewed trace behind a Q-update, a merge, a review override, a rewrite or a detach'),
    q_before: z.number(),
    q_after: z.number(),
    reward: z.number().nullable(),
    alpha: z.number().nullable(),
    actor: z
      .object({ type: z.enum(['api_key', 'learning_loop']), key_id: z.uuid().nullable(), label: z.string().nullable() })
      .describe('Who or what made the change: a key over the API, or the learning loop reviewing trace_id'),
    detail: z
      .record(z.string(), z.unknown())
      .describe(
        'q_update: {} for a human review, {review_source: "judge"} for the judge\'s, {review_source: "human", overridden: {reward, alpha, q_before, q_after}} where a human override replaced the judge\'s update (the figures shown are the corrected ones); ' +
          'edit: {fields: {name: {from, to}}}; invalidate: {reason}; restore: {reason, invalidated_for}; merge: {evidence_count, reflection_before, source}; ' +
          'review_override: {trace_id, q_before, q_after, judge: {result, reward, alpha}, human: {result, reward, alpha}, later_updates} (reward and alpha are the human\'s; actor: the reviewer); ' +
          'rewrite: {reflection_before, success_before, success, source}; detach: {evidence_count, source_trace_ids}',
      ),
    created_at: timestamp,
  })
  .meta({ id: 'QValueChange' });
