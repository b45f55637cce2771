/**
 * The learning benchmark's judge arms, CI-sized: all-lures × (no reviews, perfect reviews, the
 * project's judge erring on a fifth of the runs, the judge with every run corrected by a human)
 * × 3 seeds against the real server (its judge, reflector and embedder pointed at the
 * benchmark's fixture endpoint), driven only over HTTP.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runLearningBenchmark, type BenchmarkResult } from '../../src/benchLearning/index.js';

const EPISODES = 60;
const SEEDS = 3;
let result: BenchmarkResult;

beforeAll(async () => {
  result = await runLearningBenchmark({
    scenarios: ['all-lures'],
    arms: ['unreviewed', 'defaults', 'judge', 'judge+100%'],
    seeds: SEEDS,
    firstSeed: 1,
    concurrency: 4,
    settings: { clusters: 2, paraphrases: 4, episodes: EPISODES, limit: 3, via: 'query', embeddings: 'fixture', qEvery: 10, judge: { error: 0.2, humanDelay: 0 } },
    serverEnv: { LOG_LEVEL: 'silent' },
  });
  const figures = result.recovery.map((r) => `${r.arm} ${r.lastThird.success.mean.toFixed(3)}`).join(', ');
  process.stdout.write(`learning benchmark, judge arms (CI size): ${result.seconds.toFixed(0)} s wall; success, last third: ${figures}\n`);
}, 600_000);

const row = (arm: string) => result.recovery.find((r) => r.arm === arm)!;
const figures = () => JSON.stringify(result.recovery.map((r) => [r.arm, r.lastThird.success.mean.toFixed(3), r.judgeErrorRate]));

describe('learning benchmark, judge arms (CI size)', () => {
  it('had the judge grade every run of the judge arms, wrongly about as often as set, and humans review every run at h = 1', () => {
    const judgeRows = result.episodes.filter((r) => r.arm === 'judge' || r.arm === 'judge+100%');
    expect(judgeRows).toHaveLength(2 * SEEDS * EPISODES);
    expect(judgeRows.every((r) => r.judged === 1)).toBe(true);
    expect(row('judge').judgeErrorRate).toBeGreaterThan(0.12);
    expect(row('judge').judgeErrorRate).toBeLessThan(0.28);
    expect(row('judge+100%').humanShare).toBe(1);
    expect(row('judge').humanShare).toBe(0);
    // The server's agreement statistics, with the humans' true verdicts, match the judge's measured errors exactly.
    for (const seed of [1, 2, 3]) {
      const server = result.agreement.find((a) => a.arm === 'judge+100%' && a.seed === seed)!;
      const rows = result.episodes.filter((r) => r.arm === 'judge+100%' && r.seed === seed);
      expect(server.judged).toBe(EPISODES);
      expect(server.with_human).toBe(EPISODES);
      expect(server.agreement_rate).toBeCloseTo(1 - rows.filter((r) => r.judge_wrong).length / EPISODES, 10);
    }
    // No verdict reached the server in the unreviewed arm: every seeded Q stayed at its start.
    expect(result.q.filter((p) => p.arm === 'unreviewed').every((p) => p.q === 0.5)).toBe(true);
  });

  it('judge only beats no reviews by at least 0.30 success (last third)', () => {
    expect(row('judge').lastThird.success.mean - row('unreviewed').lastThird.success.mean, figures()).toBeGreaterThanOrEqual(0.3);
  });

  it('with every run corrected by a human right away, Q-values are exactly those of perfect reviews wherever the runs retrieved alike', () => {
    // The override replaces the judge's Q-update by the human's (α 0.3 instead of the judge's 0.1),
    // so a seed whose contexts never differed from the perfect arm's must read the same Qs. A seed
    // may diverge, for a legitimate reason: a lesson rewritten after a changed verdict stays a
    // memory of its own where perfect reviews merged it into a near-duplicate.
    const trail = (arm: string, seed: number) =>
      result.episodes.filter((r) => r.arm === arm && r.seed === seed).map((r) => [r.cluster, r.p, r.success, r.lures_in_context, r.derived_in_context, r.helpful_in_context].join());
    const alike = [1, 2, 3].filter((seed) => JSON.stringify(trail('judge+100%', seed)) === JSON.stringify(trail('defaults', seed)));
    expect(alike.length, `seeds whose runs retrieved alike: ${alike.join(', ') || 'none'}`).toBeGreaterThanOrEqual(1);
    const qs = (arm: string, seed: number) => result.q.filter((p) => p.arm === arm && p.seed === seed).map((p) => [p.episode, p.seeded_role, p.cluster, p.q]);
    for (const seed of alike) {
      const judged = qs('judge+100%', seed);
      const perfect = qs('defaults', seed);
      expect(judged.length).toBe(perfect.length);
      judged.forEach((point, i) => {
        expect(point.slice(0, 3)).toEqual(perfect[i]!.slice(0, 3));
        expect(point[3] as number).toBeCloseTo(perfect[i]![3] as number, 9);
      });
    }
    // Without the corrections the judge's own Qs (its errors, its smaller alpha) are not those.
    const judgeOnly = qs('judge', alike[0]!).map((p) => p[3]);
    expect(judgeOnly).not.toEqual(qs('defaults', alike[0]!).map((p) => p[3]));
  });
});
