import { z } from 'zod';
import { nullableTimestamp, timestamp } from '../http/schemas.js';

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

export const createTraceBody = z
  .object({
    task: nonBlank(100_000),
    trajectory: z.union([z.array(message).max(10_000), z.string().max(5_000_000)]),
    final_response: z.string().nullish(),
    retrieved_memory_ids: z.array(z.uuid()).max(1_000).default([]),
    model: z.string().max(200).nullish(),
    metadata: metadata.nullish(),
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

export const listTracesQuery = z.object({
  review_status: z.enum(REVIEW_STATUSES).optional(),
  ingest_status: z.enum(INGEST_STATUSES).optional(),
  model: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type ListTracesQuery = z.infer<typeof listTracesQuery>;

export const traceSubmission = z
  .object({ id: z.uuid(), trace_id: z.uuid(), ingest_status: z.enum(INGEST_STATUSES) })
  .meta({ id: 'TraceSubmission' });

export const traceReview = z.object({
  result: z.enum(['pass', 'fail']),
  feedback_text: z.string().nullable(),
  alpha: z.number(),
  created_at: timestamp,
});

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
  })
  .meta({ id: 'Trace' });
export type TraceWire = z.infer<typeof trace>;
