import { z } from 'zod';
import { cursorParam, isoTimestampParam } from '../../http/cursor.js';
import { timestamp } from '../../http/schemas.js';

export const listLlmCallsQuery = z.object({
  purpose: z.string().min(1).max(100).optional().meta({ description: 'reflection, reflect, mental_model_refresh, …' }),
  outcome: z.enum(['ok', 'error']).optional(),
  created_after: isoTimestampParam.optional(),
  created_before: isoTimestampParam.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: cursorParam.optional(),
});
export type ListLlmCallsQuery = z.infer<typeof listLlmCallsQuery>;

export const llmCall = z
  .object({
    id: z.uuid(),
    purpose: z.string(),
    model: z.string(),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    latency_ms: z.number().int(),
    outcome: z.enum(['ok', 'error']),
    error: z.string().nullable().meta({ description: 'Short, without secrets: the HTTP status and error type, or the connection failure' }),
    trace_id: z.uuid().nullable(),
    request_id: z.string().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'LlmCall' });
export type LlmCallWire = z.infer<typeof llmCall>;
