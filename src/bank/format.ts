import { z } from 'zod';
import { FACT_TYPES, MEMORY_EVENT_KINDS } from '../db/schema.js';

/**
 * The bank file (JSON Lines): one header line, then one line per memory, history entry, mental
 * model, directive and Skill version. Field names are the wire's snake_case; times are ISO 8601.
 */
export const BANK_FORMAT_VERSION = 1;

const time = z.iso.datetime({ offset: true });
const timeOrNull = time.nullable();
const json = z.record(z.string(), z.unknown());

export const bankCounts = z.object({
  memories: z.number().int().min(0),
  history: z.number().int().min(0),
  mental_models: z.number().int().min(0),
  directives: z.number().int().min(0),
  skills: z.number().int().min(0),
});
export type BankCounts = z.infer<typeof bankCounts>;

export const headerLine = z.object({
  kind: z.literal('header'),
  format_version: z.literal(BANK_FORMAT_VERSION),
  exported_at: time,
  project: z.string(),
  /** The model of the exported memory vectors (null for an empty bank or when several were in use). */
  embedding_model: z.string().nullable(),
  dimensions: z.number().int().positive().nullable(),
  counts: bankCounts,
});

export const memoryLine = z.object({
  kind: z.literal('memory'),
  id: z.uuid(),
  task: z.string(),
  reflection: z.string(),
  q_value: z.number(),
  success: z.boolean().nullable(),
  summary: z.string(),
  key_mistake: z.string(),
  correct_action: z.string(),
  guidance: z.string(),
  applicable_tools: z.array(z.string()),
  tools_used: z.array(z.string()),
  metadata: json,
  tags: z.array(z.string()),
  reflection_source: z.string().nullable(),
  fact_type: z.enum(FACT_TYPES),
  embedding: z.array(z.number()).min(1).nullable(),
  embedding_model: z.string().nullable(),
  source_trace_id: z.uuid().nullable(),
  source_trace_ids: z.array(z.uuid()),
  use_count: z.number().int().min(0),
  last_used_at: timeOrNull,
  evidence_count: z.number().int().min(1),
  invalidated_at: timeOrNull,
  invalid_reason: z.string().nullable(),
  invalidated_by_key_id: z.uuid().nullable(),
  invalidated_by_label: z.string().nullable(),
  expires_at: timeOrNull,
  created_at: time,
  updated_at: time,
});

/** A Q-update of the learning loop (q_value_updates). */
export const qUpdateLine = z.object({
  kind: z.literal('q_update'),
  memory_id: z.uuid(),
  trace_id: z.uuid().nullable(),
  q_before: z.number(),
  q_after: z.number(),
  reward: z.number(),
  alpha: z.number(),
  /** Whose verdict (absent in files written before the judge: a human's). */
  review_source: z.enum(['human', 'judge']).optional(),
  /** The judge's figures a human override replaced. */
  overridden: z.record(z.string(), z.number()).nullish(),
  created_at: time,
});

/** Any other change to a memory (memory_events). */
export const memoryEventLine = z.object({
  kind: z.literal('memory_event'),
  memory_id: z.uuid(),
  event: z.enum(MEMORY_EVENT_KINDS),
  trace_id: z.uuid().nullable(),
  actor_key_id: z.uuid().nullable(),
  actor_label: z.string().nullable(),
  q_value: z.number(),
  detail: json,
  created_at: time,
});

export const mentalModelLine = z.object({
  kind: z.literal('mental_model'),
  id: z.string().min(1),
  name: z.string(),
  source_query: z.string(),
  content: z.string(),
  tags: z.array(z.string()),
  max_tokens: z.number().int().positive(),
  embedding: z.array(z.number()).min(1).nullable(),
  embedding_model: z.string().nullable(),
  last_refreshed_at: timeOrNull,
  created_at: time,
  updated_at: time,
});

export const directiveLine = z.object({
  kind: z.literal('directive'),
  id: z.uuid(),
  name: z.string(),
  content: z.string(),
  priority: z.number().int(),
  is_active: z.boolean(),
  tags: z.array(z.string()),
  created_at: time,
  updated_at: time,
});

export const skillLine = z.object({
  kind: z.literal('skill'),
  version: z.number().int().positive(),
  status: z.enum(['building', 'ready', 'failed']),
  name: z.string(),
  description: z.string(),
  markdown: z.string(),
  source: z.string().nullable(),
  built_from: json,
  instructions: z.string().nullable(),
  error: z.string().nullable(),
  requested_by_key_id: z.uuid().nullable(),
  requested_by_label: z.string().nullable(),
  created_at: time,
  completed_at: timeOrNull,
});

export const bankLine = z.discriminatedUnion('kind', [headerLine, memoryLine, qUpdateLine, memoryEventLine, mentalModelLine, directiveLine, skillLine]);

export type HeaderLine = z.infer<typeof headerLine>;
export type MemoryLine = z.infer<typeof memoryLine>;
export type QUpdateLine = z.infer<typeof qUpdateLine>;
export type MemoryEventLine = z.infer<typeof memoryEventLine>;
export type MentalModelLine = z.infer<typeof mentalModelLine>;
export type DirectiveLine = z.infer<typeof directiveLine>;
export type SkillLine = z.infer<typeof skillLine>;
export type BankLine = z.infer<typeof bankLine>;
