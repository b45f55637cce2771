import { z } from 'zod';

export const statsQuery = z.object({
  days: z.coerce.number().int().min(1).max(366).default(30).meta({ description: 'How many UTC days, up to today, the series covers' }),
});
export type StatsQuery = z.infer<typeof statsQuery>;

const passRate = z.number().nullable().meta({ description: 'passed / reviewed; null when nothing was reviewed' });

export const projectStats = z
  .object({
    traces: z.number().int(),
    pending_reviews: z.number().int().meta({ description: 'Traces without a review yet' }),
    memories: z.number().int(),
    reviewed: z.number().int(),
    passed: z.number().int(),
    failed: z.number().int(),
    pass_rate: passRate,
    days: z.array(
      z.object({
        date: z.string().meta({ example: '2026-11-21' }),
        pass: z.number().int(),
        fail: z.number().int(),
        pass_rate: passRate,
        memories_created: z.number().int(),
        llm_calls: z.number().int(),
        tokens_in: z.number().int(),
        tokens_out: z.number().int(),
      }),
    ),
    q_histogram: z.array(z.object({ from: z.number(), to: z.number(), count: z.number().int() })),
  })
  .meta({ id: 'ProjectStats' });
export type ProjectStatsWire = z.infer<typeof projectStats>;
