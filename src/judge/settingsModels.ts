import { z } from 'zod';
import { jsonObject } from '../http/schemas.js';
import { METADATA_FILTER_MAX_KEYS } from '../memories/models.js';

/** The alpha of the judge's verdicts when the project sets none: low, as the vendor advises for a judge. */
export const DEFAULT_JUDGE_ALPHA = 0.1;

export const RUBRIC_MAX_CHARS = 20_000;

const alpha = z.number().gt(0).max(1);
const metadataFilter = jsonObject(METADATA_FILTER_MAX_KEYS);

export const judgeSettings = z
  .object({
    project_id: z.uuid(),
    slug: z.string(),
    enabled: z.boolean().describe('Whether new unreviewed traces are judged'),
    rubric: z.string().nullable().describe('What the judge grades a run against (free text given to the LLM)'),
    model: z.string().nullable().describe("The judge's model; null = the server's REFLECT_LLM_MODEL"),
    alpha: alpha.nullable().describe(`The learning rate of the judge's verdicts; null = ${DEFAULT_JUDGE_ALPHA}`),
    metadata_filter: metadataFilter
      .nullable()
      .describe("Only traces whose metadata contains every pair are judged (PostgreSQL's jsonb @>); null = every unreviewed trace"),
    effective: z.object({ model: z.string(), alpha }).describe('What the judge uses now'),
    backlog: z
      .number()
      .int()
      .min(0)
      .describe('Traces waiting that the judge has never looked at: unreviewed, not open in the review queue, matching the filter (POST …/judge/backlog queues them)'),
  })
  .meta({ id: 'JudgeSettings' });
export type JudgeSettingsWire = z.infer<typeof judgeSettings>;

export const updateJudgeSettingsBody = z
  .object({
    enabled: z.boolean().describe('Switch the judge on (needs OPENAI_API_KEY and a rubric) or off'),
    rubric: z.string().max(RUBRIC_MAX_CHARS).nullable().describe(`At most ${RUBRIC_MAX_CHARS} characters; required while enabled`),
    model: z.string().trim().min(1).max(200).nullable().describe("null = the server's REFLECT_LLM_MODEL"),
    alpha: alpha.nullable().describe(`0 < alpha ≤ 1; null = ${DEFAULT_JUDGE_ALPHA}`),
    metadata_filter: metadataFilter
      .nullable()
      .describe(`Judge only traces whose metadata contains every pair (at most ${METADATA_FILTER_MAX_KEYS}); null = all`),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'Give at least one setting to change' })
  .meta({
    example: {
      enabled: true,
      rubric: 'Pass only if the final answer is correct and complete; fail if it guesses or ignores the reference.',
      alpha: 0.1,
      metadata_filter: { env: 'prod' },
    },
  });
export type UpdateJudgeSettingsBody = z.infer<typeof updateJudgeSettingsBody>;

export const JUDGE_BACKLOG_MAX = 1_000;

export const judgeBacklogBody = z
  .object({
    limit: z
      .number()
      .int()
      .min(1)
      .max(JUDGE_BACKLOG_MAX)
      .default(100)
      .describe(`How many of the newest waiting traces to queue (1–${JUDGE_BACKLOG_MAX})`),
  })
  .default({ limit: 100 })
  .meta({ example: { limit: 100 } });

export const judgeBacklogQueued = z
  .object({
    queued: z.number().int().min(0).describe('How many traces were queued for the judge now'),
    trace_ids: z.array(z.uuid()).describe('Those traces, newest first'),
  })
  .meta({ id: 'JudgeBacklogQueued' });
export type JudgeBacklogQueuedWire = z.infer<typeof judgeBacklogQueued>;
