import { z } from 'zod';
import { timestamp } from '../http/schemas.js';
import { metadata } from '../traces/models.js';

const tag = z.string().min(1).max(200);

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
    source_trace_id: z.uuid().nullable(),
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
    metadata: metadata.nullish(),
    tags: z.array(tag).max(100).nullish(),
    summary: z.string().max(100_000).nullish(),
    key_mistake: z.string().max(100_000).nullish(),
    correct_action: z.string().max(100_000).nullish(),
    guidance: z.string().max(100_000).nullish(),
    applicable_tools: z.array(z.string().max(200)).max(200).nullish(),
    tools_used: z.array(z.string().max(200)).max(200).nullish(),
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
  sort: z.enum(['created_at', 'q_value']).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type ListMemoriesQuery = z.infer<typeof listMemoriesQuery>;
