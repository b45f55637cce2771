/**
 * The benchmark's charts: Vega-Lite specs compiled and rendered to SVG headless by Vega, then
 * rasterised to PNG by resvg (a Rust renderer shipped as an npm package; no browser needed).
 */
import type { EpisodeRow, QPoint } from './episodes.js';
import type { RecoveryRow } from './judgeReport.js';

async function renderPng(spec: object): Promise<Buffer> {
  const [vega, vegaLite, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const compiled = vegaLite.compile(spec as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}

const ARM_ORDER = ['none', 'similarity', 'blend', 'gated', 'gated-high', 'defaults', 'oracle', 'unreviewed', 'judge', 'judge+10%', 'judge+25%', 'judge+50%', 'judge+100%'];

/** Success rate per window of episodes, mean over seeds, one line per arm, one panel per scenario. */
export function successChart(rows: EpisodeRow[], window: number): Promise<Buffer> {
  const sums = new Map<string, { scenario: string; arm: string; window: number; n: number; s: number }>();
  for (const r of rows) {
    const w = Math.floor(r.episode / window) * window + window / 2;
    const key = `${r.scenario}|${r.arm}|${w}`;
    const cell = sums.get(key) ?? { scenario: r.scenario, arm: r.arm, window: w, n: 0, s: 0 };
    cell.n++;
    cell.s += r.success;
    sums.set(key, cell);
  }
  const values = [...sums.values()].map((c) => ({ scenario: c.scenario, arm: c.arm, episode: c.window, success: c.s / c.n }));
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Success rate per ${window}-episode window (mean over seeds)`,
    data: { values },
    facet: { field: 'scenario', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 300,
      height: 200,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 'episode', type: 'quantitative', title: 'episode' },
        y: { field: 'success', type: 'quantitative', title: 'success rate', scale: { domain: [0, 1] } },
        color: { field: 'arm', type: 'nominal', sort: ARM_ORDER, scale: { scheme: 'category10' } },
      },
    },
    resolve: { scale: { x: 'independent' } },
  });
}

/** Mean Q of seeded helpful vs lure memories over episodes, per arm (rows) and scenario (columns). */
export function qChart(points: QPoint[]): Promise<Buffer> {
  const sums = new Map<string, { scenario: string; arm: string; episode: number; role: string; n: number; s: number }>();
  for (const p of points) {
    if (p.seeded_role === 'neutral' && p.role_now === 'neutral') continue;
    const role = p.seeded_role === 'neutral' ? 'neutral turned helpful' : p.seeded_role;
    const key = `${p.scenario}|${p.arm}|${p.episode}|${role}`;
    const cell = sums.get(key) ?? { scenario: p.scenario, arm: p.arm, episode: p.episode, role, n: 0, s: 0 };
    cell.n++;
    cell.s += p.q;
    sums.set(key, cell);
  }
  const values = [...sums.values()].map((c) => ({ scenario: c.scenario, arm: c.arm, episode: c.episode, role: c.role, q: c.s / c.n }));
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Q-value of seeded memories (mean over clusters and seeds)',
    data: { values },
    facet: {
      row: { field: 'arm', type: 'nominal', sort: ARM_ORDER, title: null },
      column: { field: 'scenario', type: 'nominal', title: null },
    },
    spec: {
      width: 220,
      height: 110,
      mark: 'line',
      encoding: {
        x: { field: 'episode', type: 'quantitative' },
        y: { field: 'q', type: 'quantitative', title: 'Q', scale: { domain: [0, 1] } },
        color: { field: 'role', type: 'nominal', title: 'seeded as', scale: { domain: ['helpful', 'lure', 'neutral turned helpful'], range: ['#2ca02c', '#d62728', '#1f77b4'] } },
      },
    },
  });
}

/** Success (last third) against the share of runs a human corrected, with no reviews and perfect reviews as reference lines. */
export function recoveryChart(rows: RecoveryRow[]): Promise<Buffer> {
  const measures = [
    ['last third', (r: RecoveryRow) => r.lastThird.success],
    ['all episodes', (r: RecoveryRow) => r.all.success],
  ] as const;
  const values = measures.flatMap(([measure, of]) =>
    rows.map((r) => {
      const s = of(r);
      const base = { scenario: r.scenario, measure: `success, ${measure}`, success: s.mean };
      if (r.humanFraction !== null) return { ...base, layer: 'curve', h: r.humanFraction, lo: s.mean - s.sd, hi: s.mean + s.sd };
      return { ...base, layer: 'reference', reviews: r.arm === 'defaults' ? 'perfect reviews (defaults)' : 'no reviews (unreviewed)' };
    }),
  );
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Judge + human corrections of a share h of runs (mean ± sd over seeds)',
    facet: { row: { field: 'scenario', type: 'nominal', title: null }, column: { field: 'measure', type: 'nominal', title: null, sort: ['success, last third', 'success, all episodes'] } },
    data: { values },
    spec: {
      width: 320,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.layer === 'curve'" }],
          mark: { type: 'rule', color: '#4c78a8' },
          encoding: { x: { field: 'h', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative', title: 'success rate' }, y2: { field: 'hi' } },
        },
        {
          transform: [{ filter: "datum.layer === 'curve'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'h', type: 'quantitative', title: 'share of runs reviewed by a human (0 = judge only)', scale: { domain: [0, 1] } },
            y: { field: 'success', type: 'quantitative', title: 'success rate', scale: { domain: [0, 1] } },
          },
        },
        {
          transform: [{ filter: "datum.layer === 'reference'" }],
          mark: { type: 'rule', strokeDash: [6, 4] },
          encoding: {
            y: { field: 'success', type: 'quantitative' },
            color: { field: 'reviews', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 }, scale: { domain: ['perfect reviews (defaults)', 'no reviews (unreviewed)'], range: ['#2ca02c', '#d62728'] } },
          },
        },
      ],
    },
  });
}
