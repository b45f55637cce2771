/**
 * The judge arms' figures: per scenario, success (last third, and all episodes) with no reviews, with perfect
 * reviews (the `defaults` arm), with the judge alone and with the judge plus a share h of human
 * corrections, and how much of the judge's loss those corrections win back:
 *   recovered(h) = (success(h) − success(judge)) / (success(perfect) − success(judge)),
 * reported also per percent of runs a human reviewed (recovered(h) / (100·h)).
 */
import { markdownTable } from 'markdown-table';
import type { EpisodeRow, RunResult } from './episodes.js';
import { DEFAULT_JUDGE_ALPHA } from '../judge/settingsModels.js';
import { armSpec } from './judgeArms.js';
import type { CellSummary, MeanSd } from './report.js';

/** Success by one measure and the share of the judge's loss won back by it. */
export interface Recovery {
  success: MeanSd;
  /** Judge arms: share of the judge's loss against perfect reviews won back (null when there is no loss to win back). */
  recovered: number | null;
  /** recovered / (100·h): per percent of runs reviewed by a human. */
  perPercent: number | null;
}

export interface RecoveryRow {
  scenario: string;
  arm: string;
  /** Share of runs reviewed by a human (0 for judge only); null for arms without a judge. */
  humanFraction: number | null;
  /** Over the last third of the episodes (the benchmark's headline), and over all of them (how fast it learned). */
  lastThird: Recovery;
  all: Recovery;
  /** Measured over the arm's episodes: judge verdicts that were wrong, runs a human reviewed. */
  judgeErrorRate: number | null;
  humanShare: number | null;
  /** The server's GET …/judge/agreement at each run's end, mean over seeds: judge vs the humans' (true) verdicts. */
  serverAgreement: number | null;
  serverKappa: number | null;
}

/** Below this gap between perfect reviews and the judge, the ratio means nothing. */
const MIN_GAP = 0.01;

function recovery(success: MeanSd, judge: MeanSd, perfect: MeanSd, h: number | null): Recovery {
  const gap = perfect.mean - judge.mean;
  const recovered = h !== null && Math.abs(gap) >= MIN_GAP ? (success.mean - judge.mean) / gap : null;
  return { success, recovered, perPercent: recovered !== null && h ? recovered / (100 * h) : null };
}

function serverFigures(runs: NonNullable<RunResult['agreement']>[]): { serverAgreement: number | null; serverKappa: number | null } {
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return { serverAgreement: mean(runs.map((r) => r.agreement_rate)), serverKappa: mean(runs.map((r) => r.kappa)) };
}

/** Recovery per scenario that has both a `judge` and a `defaults` cell; other scenarios are left out. */
export function recoveryRows(cells: CellSummary[], episodes: EpisodeRow[], agreement: NonNullable<RunResult['agreement']>[] = []): RecoveryRow[] {
  const out: RecoveryRow[] = [];
  for (const scenario of [...new Set(cells.map((c) => c.scenario))]) {
    const mine = cells.filter((c) => c.scenario === scenario);
    const judge = mine.find((c) => c.arm === 'judge');
    const perfect = mine.find((c) => c.arm === 'defaults');
    if (!judge || !perfect) continue;
    const reviewArms = mine.filter((c) => c.arm === 'defaults' || armSpec(c.arm)?.reviews !== undefined);
    for (const cell of reviewArms) {
      const spec = armSpec(cell.arm)!;
      const isJudge = spec.reviews === 'judge';
      const rows = isJudge ? episodes.filter((r) => r.scenario === scenario && r.arm === cell.arm) : [];
      const judged = rows.reduce((a, r) => a + r.judged, 0);
      const h = isJudge ? (spec.humanFraction ?? 0) : null;
      out.push({
        scenario,
        arm: cell.arm,
        humanFraction: h,
        lastThird: recovery(cell.successLastThird, judge.successLastThird, perfect.successLastThird, h),
        all: recovery(cell.successAll, judge.successAll, perfect.successAll, h),
        judgeErrorRate: judged ? rows.reduce((a, r) => a + r.judge_wrong, 0) / judged : null,
        humanShare: isJudge && rows.length ? rows.reduce((a, r) => a + r.human_reviewed, 0) / rows.length : null,
        ...serverFigures(agreement.filter((a) => a.scenario === scenario && a.arm === cell.arm)),
      });
    }
  }
  return out;
}

const num = (x: number | null, digits = 2) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));

export function recoveryMarkdown(rows: RecoveryRow[], context: { judgeError: number; judgeAlpha?: number; humanDelay: number }): string {
  if (!rows.length) return '';
  const ms = (x: MeanSd) => (Number.isFinite(x.mean) ? `${x.mean.toFixed(3)} ± ${x.sd.toFixed(3)}` : '—');
  const table = markdownTable(
    [
      ['scenario', 'arm', 'human share h', 'judge wrong (measured)', 'humans reviewed (measured)', 'server: agreement (κ)', 'success, last third', 'recovered', 'per 1% reviewed', 'success, all', 'recovered', 'per 1% reviewed'],
      ...rows.map((r) => [
        r.scenario,
        r.arm,
        r.humanFraction === null ? '—' : num(r.humanFraction),
        num(r.judgeErrorRate, 3),
        num(r.humanShare, 3),
        r.serverAgreement === null ? '—' : `${num(r.serverAgreement, 3)} (${num(r.serverKappa)})`,
        ...[r.lastThird, r.all].flatMap((m) => [ms(m.success), num(m.recovered), num(m.perPercent, 4)]),
      ]),
    ],
    { align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] },
  );
  const alpha = `judge alpha ${context.judgeAlpha ?? `${DEFAULT_JUDGE_ALPHA}, the server's default`}`;
  const delay = context.humanDelay ? `${context.humanDelay} episodes after the run` : 'right after the judge’s review is applied';
  return [
    '## Judge and human corrections',
    '',
    `The judge grades every run of the judge arms, wrong for a share ${context.judgeError} of them (${alpha}); in \`judge+h\` arms a random share h of the runs (the same runs in every arm of a seed, nested as h grows) is then reviewed by a human with the true verdict, ${delay}. \`defaults\` = perfect reviews, \`unreviewed\` = none.`,
    '',
    table,
    '',
    'Server: agreement rate (Cohen\'s κ) from GET /v1/projects/{project}/judge/agreement at each run\'s end, mean over seeds; the humans\' verdicts are the truth, so it should be 1 − judge wrong. recovered = (success(arm) − success(judge)) / (success(defaults) − success(judge)), from the means over seeds (— when the judge loses under 0.01); per 1% = recovered / (100·h). "All" counts every episode, so it also shows how fast each arm learned.',
    '',
  ].join('\n');
}
