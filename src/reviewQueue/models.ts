import { z } from 'zod';
import { timestamp } from '../http/schemas.js';
import { alpha, reviewResult, trace, traceFilter } from '../traces/models.js';

export const claimBody = z
  .object({
    after: z.uuid().optional().meta({ description: 'Claim the next trace after this one in queue order (oldest first)' }),
    before: z.uuid().optional().meta({ description: 'Claim the previous trace before this one' }),
  })
  .refine((b) => !(b.after && b.before), { message: 'Give after or before, not both', path: ['before'] })
  .default({})
  .meta({ example: { after: '6f1c1d1e-6c1b-4d5e-9a55-0c7a1f3e2b10' } });
export type ClaimBody = z.infer<typeof claimBody>;

export const claimedTrace = z
  .object({ trace, lease_expires_at: timestamp })
  .meta({ id: 'ClaimedTrace' });

const bulkReviewFields = {
  result: reviewResult,
  feedback_text: z.string().max(100_000).nullish(),
  alpha: alpha.nullish(),
};

/** By ids, or every trace matching a list filter (newest first, up to `limit`). */
export const bulkReviewBody = z
  .union([
    z.object({ ...bulkReviewFields, trace_ids: z.array(z.uuid()).min(1).max(1_000) }).strict(),
    z.object({ ...bulkReviewFields, filter: traceFilter.strict(), limit: z.number().int().min(1).max(1_000).default(1_000) }).strict(),
  ])
  .meta({ example: { result: 'fail', feedback_text: 'Wrong table', trace_ids: ['6f1c1d1e-6c1b-4d5e-9a55-0c7a1f3e2b10'] } });
export type BulkReviewBody = z.infer<typeof bulkReviewBody>;

export const bulkReviewResult = z
  .object({
    results: z.array(
      z.object({
        trace_id: z.uuid(),
        status: z
          .enum(['queued', 'overridden', 'conflict', 'not_found'])
          .describe("overridden: the judge's review was replaced by this one (its Q-updates corrected; a changed verdict queues the lesson's rewrite)"),
        detail: z.string().optional(),
      }),
    ),
    queued: z.number().int(),
    overridden: z.number().int().describe("Judge's reviews replaced by this one"),
    conflicts: z.number().int(),
  })
  .meta({ id: 'BulkReviewResult' });
export type BulkReviewResultWire = z.infer<typeof bulkReviewResult>;
