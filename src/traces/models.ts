import { z } from 'zod';
import { booleanParam, cursorParam, isoTimestampParam } from '../http/cursor.js';
import { inputIssues } from '../http/inputRules.js';
import { jsonObject, nullableTimestamp, timestamp } from '../http/schemas.js';
import { normalizeTrajectory, type Message } from './trajectory.js';

/** `success`/`failure` are the SDK's aliases of `pass`/`fail`. */
export const reviewResult = z
  .enum(['pass', 'fail', 'success', 'failure'])
  .transform((r) => (r === 'success' ? 'pass' : r === 'failure' ? 'fail' : r))
  .meta({ description: '"pass" or "fail" ("success"/"failure" accepted as aliases)' });

export const alpha = z.number().gt(0).max(1).meta({ description: 'Learning rate in (0, 1]' });

const nonBlank = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => s.trim().length > 0, { message: 'Must not be empty' });

export const message = z.looseObject({ role: z.string().min(1) }).meta({ id: 'Message' });
export const metadata = z.record(z.string(), z.unknown());
/** Metadata as a request may set it. */
export const METADATA_MAX_KEYS = 100;
export const metadataInput = jsonObject(METADATA_MAX_KEYS).describe(`Free-form JSON object, at most ${METADATA_MAX_KEYS} keys`);

export const TRAJECTORY_MAX_MESSAGES = 10_000;

/**
 * A trajectory sent as a string holding a JSON message list is parsed here, at the edge, so the
 * messages inside obey the same rules as a list sent as JSON (their `loc` is the message's);
 * any other text is kept whole as one `summary` message.
 */
const trajectoryText = z
  .string()
  .max(5_000_000)
  .transform((text, ctx): Message[] => {
    const messages = normalizeTrajectory(text);
    if (messages.length === 1 && messages[0]!.role === 'summary' && messages[0]!.content === text) return messages;
    if (messages.length > TRAJECTORY_MAX_MESSAGES) {
      ctx.addIssue({ code: 'custom', message: `must not have more than ${TRAJECTORY_MAX_MESSAGES} messages`, params: { type: 'too_many_items' } });
      return z.NEVER;
    }
    // The string sits at level 2 of the body; the list it holds takes its place.
    for (const issue of inputIssues(messages, [], 2)) ctx.addIssue({ code: 'custom', message: issue.msg, path: issue.loc, params: { type: issue.type } });
    return messages;
  });

export const createTraceBody = z
  .object({
    task: nonBlank(100_000),
    trajectory: z.union([z.array(message).max(TRAJECTORY_MAX_MESSAGES), trajectoryText]),
    final_response: z.string().nullish(),
    retrieved_memory_ids: z.array(z.uuid()).max(1_000).default([]),
    model: z.string().max(200).nullish(),
    metadata: metadataInput.nullish(),
    review_result: reviewResult.nullish(),
    feedback_text: z.string().max(100_000).nullish(),
    alpha: alpha.nullish(),
    reference_context: z.string().max(1_000_000).nullish(),
  })
  .meta({
    example: {
      task: 'Count the orders placed in March',
      trajectory: [
        { role: 'user', content: 'How many orders were placed in March?' },
        { role: 'assistant', content: 'SELECT count(*) FROM orders; -- 1532' },
      ],
      retrieved_memory_ids: [],
      model: 'gpt-5.4-mini',
      metadata: { tags: ['sql'] },
      review_result: 'fail',
      feedback_text: 'Missed the WHERE clause on the order date',
    },
  });
export type CreateTraceBody = z.infer<typeof createTraceBody>;

export const reviewBody = z
  .object({ result: reviewResult, feedback_text: z.string().max(100_000).nullish(), alpha: alpha.nullish() })
  .meta({ example: { result: 'fail', feedback_text: 'Missed the WHERE clause' } });
export type ReviewBody = z.infer<typeof reviewBody>;

export const REVIEW_STATUSES = ['pending', 'reviewed'] as const;
export const INGEST_STATUSES = ['queued', 'processing', 'completed', 'failed'] as const;
export const JUDGE_STATUSES = ['queued', 'judging', 'judged', 'failed', 'skipped'] as const;

/** The list's filters, all optional and combinable; bulk review takes the same ones. */
export const traceFilter = z.object({
  review_status: z.enum(REVIEW_STATUSES).optional(),
  ingest_status: z.enum(INGEST_STATUSES).optional(),
  model: z.string().max(200).optional(),
  metadata_key: z.string().min(1).max(200).optional().meta({ description: 'With metadata_value: traces whose metadata->>key equals the value' }),
  metadata_value: z.string().max(1_000).optional(),
  created_after: isoTimestampParam.optional(),
  created_before: isoTimestampParam.optional(),
  q: z.string().min(1).max(500).optional().meta({ description: 'Case-insensitive substring of the task' }),
  review_source: z.enum(['human', 'judge']).optional().meta({ description: "Whose review is in force: a person's (or code's) or the server's judge" }),
  judge_status: z.enum(JUDGE_STATUSES).optional().meta({ description: "The judge's work on the trace" }),
});
export type TraceFilterInput = z.infer<typeof traceFilter>;

export const listTracesQuery = traceFilter
  .extend({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).default(0),
    cursor: cursorParam.optional(),
    include_trajectory: booleanParam.default(true).meta({ description: 'false: each trace has `trajectory: []` (a lighter page for tables)' }),
  })
  .refine((q) => (q.metadata_key === undefined) === (q.metadata_value === undefined), {
    message: 'metadata_key and metadata_value go together',
    path: ['metadata_value'],
  });
export type ListTracesQuery = z.infer<typeof listTracesQuery>;

export const traceSubmission = z
  .object({ id: z.uuid(), trace_id: z.uuid(), ingest_status: z.enum(INGEST_STATUSES) })
  .meta({ id: 'TraceSubmission' });

/** Who did something: an API key's id (as GET /v1/api-keys lists it) and label. */
export const keyRef = z.object({ key_id: z.uuid(), label: z.string() }).meta({ id: 'KeyRef' });

export const traceReview = z.object({
  result: z.enum(['pass', 'fail']),
  feedback_text: z.string().nullable(),
  alpha: z.number(),
  created_at: timestamp,
  /** The key that sent the review; null if that key was deleted or the review predates this field. */
  reviewer: keyRef.nullable(),
  source: z.enum(['human', 'judge']).describe("`judge`: the server's LLM judge gave it (a human review may still replace it); `human`: a person or code over the API"),
  overridden_at: nullableTimestamp.describe("When this human review replaced the judge's verdict (the judge's Q-updates corrected); null otherwise"),
});

/** The judge's own work on a trace; its verdict stays here after a human overrides it. */
export const traceJudgement = z
  .object({
    status: z.enum(JUDGE_STATUSES),
    result: z.enum(['pass', 'fail']).nullable(),
    reason: z.string().nullable(),
    model: z.string().nullable(),
    judged_at: nullableTimestamp,
    attempts: z.number().int(),
    error: z.string().nullable().describe('Why the last attempt failed (an LLM error or an unparseable verdict); never a made-up verdict'),
  })
  .meta({ id: 'TraceJudgement' });

/** The review queue's live lease on a trace: who has it open, until when. */
export const traceLease = z.object({ key_id: z.uuid(), label: z.string(), expires_at: timestamp }).meta({ id: 'TraceLease' });

export const trace = z
  .object({
    id: z.uuid(),
    task: z.string(),
    trajectory: z.array(message),
    final_response: z.string(),
    retrieved_memory_ids: z.array(z.uuid()),
    review_status: z.enum(REVIEW_STATUSES),
    ingest_status: z.enum(INGEST_STATUSES),
    ingest_attempts: z.number().int(),
    last_ingest_error: z.string().nullable(),
    model: z.string().nullable(),
    metadata: metadata,
    review: traceReview.nullable(),
    created_memory_id: z.uuid().nullable(),
    reference_context: z.string().nullable(),
    created_at: timestamp,
    updated_at: nullableTimestamp.unwrap(),
    lease: traceLease.nullable(),
    judge: traceJudgement.nullable().describe('null when no judge was asked to review this trace'),
    redactions: z
      .record(z.string(), z.number().int())
      .describe('Secrets replaced by `[REDACTED:<kind>]` before the trace was stored, counted by kind; {} when none (or REFLECT_REDACT_SECRETS=false)'),
  })
  .meta({ id: 'Trace' });
export type TraceWire = z.infer<typeof trace>;
