/**
 * The learning benchmark's figures: per scenario × arm over seeds — success over the last third
 * of episodes, AUC(helpful Q > lure Q), episodes until the helpful memory first outranks all
 * lures, the share of context held by trace-derived memories, and recovery after drift.
 */
import { markdownTable } from 'markdown-table';
import type { EpisodeRow, QPoint } from './episodes.js';

export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

export function meanSd(xs: number[]): MeanSd {
  const v = xs.filter((x) => Number.isFinite(x));
  const mean = v.reduce((a, b) => a + b, 0) / (v.length || 1);
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean: v.length ? mean : NaN, sd, n: v.length };
}

export interface CellSummary {
  scenario: string;
  arm: string;
  seeds: number;
  successLastThird: MeanSd;
  successAll: MeanSd;
  /** AUC at the last Q reading, and at the reading of episode 300 when the run is that long. */
  aucEnd: MeanSd;
  auc300: MeanSd;
  /** Mean over clusters with lures of the first episode the helpful memory outranks every lure (runs where it never does count as the run's length). */
  outrankEpisode: MeanSd;
  /** Share of clusters (with lures) where it never happens. */
  neverOutranks: number;
  derivedShare: MeanSd;
  derivedHelpfulShare: MeanSd;
  lureShare: MeanSd;
  /** Drift: episodes after the change until the seed-mean success over 50 episodes is back to ≥ 0.6. */
  driftRecovery?: number | null;
}

const groupBy = <T>(xs: T[], key: (x: T) => string) => {
  const out = new Map<string, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
};

/** Share of (helpful, lure) pairs of one cluster in which the helpful memory has the higher Q (ties count half). */
export function aucAt(points: QPoint[]): number {
  let pairs = 0;
  let wins = 0;
  for (const cluster of groupBy(points, (p) => String(p.cluster)).values()) {
    const helpful = cluster.filter((p) => p.role_now === 'helpful');
    const lures = cluster.filter((p) => p.role_now === 'lure');
    for (const h of helpful)
      for (const l of lures) {
        pairs++;
        wins += h.q > l.q ? 1 : h.q === l.q ? 0.5 : 0;
      }
  }
  return pairs ? wins / pairs : NaN;
}

export function summarise(rows: EpisodeRow[], q: QPoint[], limit: number, drift: Set<string>): CellSummary[] {
  const qByRun = groupBy(q, (p) => `${p.scenario}|${p.arm}|${p.seed}`);
  const out: CellSummary[] = [];
  for (const [cell, cellRows] of groupBy(rows, (r) => `${r.scenario}|${r.arm}`)) {
    const [scenario, arm] = cell.split('|') as [string, string];
    const runs = [...groupBy(cellRows, (r) => String(r.seed)).entries()];
    const perRun = runs.map(([seed, rs]) => {
      const n = rs.length;
      const last = rs.filter((r) => r.episode >= Math.floor((2 * n) / 3));
      const points = qByRun.get(`${scenario}|${arm}|${seed}`) ?? [];
      const readings = [...new Set(points.map((p) => p.episode))].sort((a, b) => a - b);
      const at = (episode: number | undefined) => (episode === undefined ? NaN : aucAt(points.filter((p) => p.episode === episode)));
      const lureClusters = [...new Set(points.filter((p) => p.seeded_role === 'lure').map((p) => p.cluster))];
      const firsts = lureClusters.map((c) => rs.find((r) => r.cluster === c && r.helpful_outranks_lures === 1)?.episode);
      return {
        last: mean(last.map((r) => r.success)),
        all: mean(rs.map((r) => r.success)),
        aucEnd: at(readings.at(-1)),
        auc300: n >= 300 ? at(readings.filter((e) => e <= 300).at(-1)) : NaN,
        outrank: firsts.length ? mean(firsts.map((f) => f ?? n)) : NaN,
        never: firsts.length ? firsts.filter((f) => f === undefined).length / firsts.length : NaN,
        derived: mean(rs.map((r) => r.derived_in_context / limit)),
        derivedHelpful: mean(rs.map((r) => r.derived_helpful_in_context / limit)),
        lures: mean(rs.map((r) => r.lures_in_context / limit)),
      };
    });
    out.push({
      scenario,
      arm,
      seeds: runs.length,
      successLastThird: meanSd(perRun.map((r) => r.last)),
      successAll: meanSd(perRun.map((r) => r.all)),
      aucEnd: meanSd(perRun.map((r) => r.aucEnd)),
      auc300: meanSd(perRun.map((r) => r.auc300)),
      outrankEpisode: meanSd(perRun.map((r) => r.outrank)),
      neverOutranks: mean(perRun.map((r) => r.never).filter(Number.isFinite)),
      derivedShare: meanSd(perRun.map((r) => r.derived)),
      derivedHelpfulShare: meanSd(perRun.map((r) => r.derivedHelpful)),
      lureShare: meanSd(perRun.map((r) => r.lures)),
      ...(drift.has(scenario) ? { driftRecovery: driftRecovery(cellRows) } : {}),
    });
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Episodes after the half-way change until the seed-mean success over the last 50 episodes is ≥ 0.6 (null: never). */
function driftRecovery(rows: EpisodeRow[]): number | null {
  const n = Math.max(...rows.map((r) => r.episode)) + 1;
  const half = Math.floor(n / 2);
  const byEpisode = groupBy(rows, (r) => String(r.episode));
  const curve = Array.from({ length: n }, (_, e) => mean((byEpisode.get(String(e)) ?? []).map((r) => r.success)));
  for (let e = half + 49; e < n; e++) if (mean(curve.slice(e - 49, e + 1)) >= 0.6) return e - half + 1;
  return null;
}

const f = (x: MeanSd, digits = 2) => (Number.isFinite(x.mean) ? `${x.mean.toFixed(digits)} ± ${x.sd.toFixed(digits)}` : '—');

export function markdownSummary(cells: CellSummary[], context: { command: string; settings: string; seconds: number }): string {
  const table = markdownTable(
    [
      ['scenario', 'arm', 'seeds', 'success, last third', 'success, all', 'AUC helpful Q > lure Q (end)', 'AUC at ep. 300', 'episodes until helpful outranks lures (never)', 'lures in context', 'trace-derived in context (helpful ones)'],
      ...cells.map((c) => [
        c.scenario,
        c.arm,
        String(c.seeds),
        f(c.successLastThird),
        f(c.successAll),
        f(c.aucEnd),
        f(c.auc300),
        Number.isFinite(c.outrankEpisode.mean) ? `${c.outrankEpisode.mean.toFixed(0)} ± ${c.outrankEpisode.sd.toFixed(0)} (${(100 * c.neverOutranks).toFixed(0)}%)` : '—',
        f(c.lureShare),
        `${f(c.derivedShare)} (${c.derivedHelpfulShare.mean.toFixed(2)})`,
      ]),
    ],
    { align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] },
  );
  const targets = targetLines(cells);
  return [
    '# Learning benchmark',
    '',
    `Command: \`${context.command}\``,
    '',
    `Settings: ${context.settings}. Wall time ${context.seconds.toFixed(0)} s.`,
    '',
    table,
    '',
    'Shares of context are per retrieved slot (limit). AUC over (helpful, lure) pairs of a cluster; "never" = share of lure clusters where the seeded helpful memory never ranked above all lures.',
    '',
    '## Targets',
    '',
    ...targets.map((t) => `- ${t.text}: ${t.value} — ${t.met === undefined ? 'not measured in this run' : t.met ? 'met' : 'NOT met'}`),
    '',
  ].join('\n');
}

export interface TargetCheck {
  text: string;
  value: string;
  met?: boolean;
}

export function targetLines(cells: CellSummary[]): TargetCheck[] {
  const cell = (scenario: string, arm: string) => cells.find((c) => c.scenario === scenario && c.arm === arm);
  const out: TargetCheck[] = [];
  const gap = (scenario: string) => {
    const d = cell(scenario, 'defaults');
    const s = cell(scenario, 'similarity');
    return d && s ? d.successLastThird.mean - s.successLastThird.mean : undefined;
  };
  const lures = gap('all-lures');
  out.push({ text: 'all-lures: defaults − λ=0 success (last third) ≥ 0.30', value: lures === undefined ? '—' : lures.toFixed(3), met: lures === undefined ? undefined : lures >= 0.3 });
  const control = gap('control');
  out.push({ text: 'control: |defaults − λ=0| ≤ 0.03', value: control === undefined ? '—' : control.toFixed(3), met: control === undefined ? undefined : Math.abs(control) <= 0.03 });
  const auc = cell('all-lures', 'defaults')?.auc300;
  out.push({ text: 'all-lures, defaults: AUC(helpful Q > lure Q) ≥ 0.8 at episode 300', value: auc && Number.isFinite(auc.mean) ? auc.mean.toFixed(3) : '—', met: auc && Number.isFinite(auc.mean) ? auc.mean >= 0.8 : undefined });
  const drift = cell('drift', 'defaults');
  out.push({
    text: 'drift, defaults: back to ≥ 0.6 success within 200 episodes of the change',
    value: drift ? (drift.driftRecovery === null ? 'never' : `${drift.driftRecovery} episodes`) : '—',
    met: drift ? drift.driftRecovery !== null && drift.driftRecovery! <= 200 : undefined,
  });
  return out;
}

/** RFC 4180 CSV of plain records (fields quoted only when they need it). */
export function toCsv<T extends object>(records: T[]): string {
  if (records.length === 0) return '';
  const header = Object.keys(records[0]!);
  const cell = (v: unknown) => {
    const s = typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header.join(','), ...records.map((r) => header.map((h) => cell((r as Record<string, unknown>)[h])).join(','))].join('\n') + '\n';
}
