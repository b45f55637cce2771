import { z } from 'zod';
import { timestamp } from '../http/schemas.js';

export const projectSummary = z
  .object({
    id: z.uuid(),
    /** The name callers use in X-Project-Id (and as the Hindsight bank id). */
    slug: z.string(),
    created_at: timestamp,
    trace_count: z.number().int(),
    /** Traces without a review yet: what the review queue holds. */
    pending_review_count: z.number().int(),
    memory_count: z.number().int(),
  })
  .meta({ id: 'ProjectSummary' });
export type ProjectSummaryWire = z.infer<typeof projectSummary>;
