/**
 * How far the judge can be trusted: its verdicts compared with the human verdicts that replaced or
 * preceded them, taking the human as truth and pass as the positive class.
 */
import type { Principal } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { agreementCounts, disagreements } from '../db/judgeAgreement.js';
import { isoOrNull } from '../http/schemas.js';
import { resolveAddressedProject } from '../projects/settings.js';
import {
  AGREEMENT_DEFAULT_DAYS,
  DISAGREEMENT_TASK_CHARS,
  DISAGREEMENTS_LIMIT,
  type AgreementQuery,
  type JudgeAgreementWire,
} from './agreementModels.js';

/** The confusion matrix: judge verdict × human verdict. */
export interface Confusion {
  /** Judge pass, human pass (true positive). */
  passPass: number;
  /** Judge pass, human fail (false positive). */
  passFail: number;
  /** Judge fail, human pass (false negative). */
  failPass: number;
  /** Judge fail, human fail (true negative). */
  failFail: number;
}

export interface AgreementFigures {
  pairs: number;
  agreementRate: number | null;
  kappa: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/**
 * Agreement rate pₒ, Cohen's κ, and precision/recall/F1. Undefined figures are null, never 0 or 1:
 * - no pairs: every figure null;
 * - κ when pₑ = 1, i.e. judge and human each gave one verdict to every pair and it is the same one
 *   (pₒ = 1 as well; κ = 0/0). One rater all-pass and the other mixed is defined (pₑ < 1);
 * - precision when the judge passed none; recall when the human passed none;
 * - F1 = 2·TP / (2·TP + FP + FN) (the harmonic mean of precision and recall where both are defined,
 *   0 when the judge and human passed only different traces), null only when neither passed any.
 */
export function agreementFigures(c: Confusion): AgreementFigures {
  const n = c.passPass + c.passFail + c.failPass + c.failFail;
  if (n === 0) return { pairs: 0, agreementRate: null, kappa: null, precision: null, recall: null, f1: null };
  const observed = (c.passPass + c.failFail) / n;
  const judgePass = (c.passPass + c.passFail) / n;
  const humanPass = (c.passPass + c.failPass) / n;
  const expected = judgePass * humanPass + (1 - judgePass) * (1 - humanPass);
  // pₑ = 1 exactly when both marginals are 0 or both are 1; compared on counts to avoid float noise.
  const oneSameClass = c.passPass === n || c.failFail === n;
  return {
    pairs: n,
    agreementRate: observed,
    // Clamped: float rounding must not put κ a hair outside [−1, 1].
    kappa: oneSameClass ? null : Math.max(-1, Math.min(1, (observed - expected) / (1 - expected))),
    precision: ratio(c.passPass, c.passPass + c.passFail),
    recall: ratio(c.passPass, c.passPass + c.failPass),
    f1: ratio(2 * c.passPass, 2 * c.passPass + c.passFail + c.failPass),
  };
}

/** The window a query asks for: [since, until) by judged_at, by default the last 30 days. */
export function agreementWindow(query: AgreementQuery, now = new Date()): { since: Date; until: Date } {
  const until = query.until ?? now;
  const since = query.since ?? new Date(until.getTime() - AGREEMENT_DEFAULT_DAYS * 86_400_000);
  return { since, until };
}

export function createJudgeAgreementService(deps: { db: Db }) {
  const { db } = deps;
  return {
    async get(principal: Principal, slugOrId: string, query: AgreementQuery): Promise<JudgeAgreementWire> {
      const project = await resolveAddressedProject(db, principal, slugOrId);
      const window = agreementWindow(query);
      const [counts, rows] = await Promise.all([
        agreementCounts(db, project.id, window),
        disagreements(db, project.id, window, DISAGREEMENTS_LIMIT, DISAGREEMENT_TASK_CHARS),
      ]);
      const figures = agreementFigures(counts);
      return {
        since: window.since.toISOString(),
        until: window.until.toISOString(),
        judged: counts.judged,
        with_human: figures.pairs,
        agreement_rate: figures.agreementRate,
        kappa: figures.kappa,
        precision: figures.precision,
        recall: figures.recall,
        f1: figures.f1,
        confusion: {
          judge_pass_human_pass: counts.passPass,
          judge_pass_human_fail: counts.passFail,
          judge_fail_human_pass: counts.failPass,
          judge_fail_human_fail: counts.failFail,
        },
        disagreements: rows.map((r) => ({
          trace_id: r.traceId,
          task: r.task,
          judge_result: r.judgeResult,
          judge_reason: r.judgeReason,
          human_result: r.humanResult,
          human_feedback: r.humanFeedback,
          reviewer: r.reviewerKeyId && r.reviewerLabel !== null ? { key_id: r.reviewerKeyId, label: r.reviewerLabel } : null,
          judged_at: r.judgedAt.toISOString(),
          reviewed_at: isoOrNull(r.reviewedAt),
        })),
      };
    },
  };
}

export type JudgeAgreementService = ReturnType<typeof createJudgeAgreementService>;
