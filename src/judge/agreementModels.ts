import { z } from 'zod';
import { isoTimestampParam } from '../http/cursor.js';
import { nullableTimestamp, timestamp } from '../http/schemas.js';
import { keyRef } from '../traces/models.js';

export const AGREEMENT_DEFAULT_DAYS = 30;
export const DISAGREEMENTS_LIMIT = 50;
/** A disagreement shows the start of its trace's task; the trace page has the rest. */
export const DISAGREEMENT_TASK_CHARS = 500;

export const agreementQuery = z
  .object({
    since: isoTimestampParam.optional().meta({ description: `Window start by judged_at, inclusive; default: \`until\` minus ${AGREEMENT_DEFAULT_DAYS} days` }),
    until: isoTimestampParam.optional().meta({ description: 'Window end by judged_at, exclusive; default: now' }),
  })
  .refine((q) => !q.since || !q.until || q.since < q.until, { message: 'since must be before until', path: ['since'] });
export type AgreementQuery = z.infer<typeof agreementQuery>;

const verdict = z.enum(['pass', 'fail']);
const ratio = (what: string) => z.number().min(0).max(1).nullable().describe(what);

export const judgeDisagreement = z
  .object({
    trace_id: z.uuid(),
    task: z.string().describe(`The trace's task (its first ${DISAGREEMENT_TASK_CHARS} characters)`),
    judge_result: verdict,
    judge_reason: z.string().nullable(),
    human_result: verdict,
    human_feedback: z.string().nullable(),
    reviewer: keyRef.nullable().describe('The key that gave the human review; null if unknown or deleted'),
    judged_at: timestamp,
    reviewed_at: nullableTimestamp,
  })
  .meta({ id: 'JudgeDisagreement' });

export const judgeAgreement = z
  .object({
    since: timestamp,
    until: timestamp,
    judged: z.number().int().describe('Traces the judge gave a verdict in the window (by judged_at)'),
    with_human: z.number().int().describe('Of those, traces whose review in force is a human one: the pairs compared'),
    agreement_rate: ratio('Pairs where judge and human agree / pairs; null without pairs'),
    kappa: z
      .number()
      .min(-1)
      .max(1)
      .nullable()
      .describe("Cohen's κ = (pₒ − pₑ)/(1 − pₑ); null without pairs or when pₑ = 1 (both gave one and the same verdict to every pair)"),
    precision: ratio('Of the judge\'s passes, the share the human passed too; null when the judge passed none'),
    recall: ratio("Of the human's passes, the share the judge passed too; null when the human passed none"),
    f1: ratio('2·TP / (2·TP + FP + FN), pass being the positive class; null when neither passed any'),
    confusion: z.object({
      judge_pass_human_pass: z.number().int(),
      judge_pass_human_fail: z.number().int(),
      judge_fail_human_pass: z.number().int(),
      judge_fail_human_fail: z.number().int(),
    }),
    disagreements: z.array(judgeDisagreement).describe(`Pairs where the verdicts differ, newest human review first, at most ${DISAGREEMENTS_LIMIT}`),
  })
  .meta({ id: 'JudgeAgreement' });
export type JudgeAgreementWire = z.infer<typeof judgeAgreement>;
