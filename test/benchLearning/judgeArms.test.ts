/**
 * The learning benchmark's judge arms without a server: the fixture judge's verdicts (over HTTP,
 * through the real openai client), the arm names and their expansion, and the recovery figures
 * against hand-computed values.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureOpenAI, type FixtureOpenAI } from '../../src/benchLearning/fixtureOpenAI.js';
import { fixtureJudgeVerdict, judgeErrs, judgeRubric, outcomeMarker } from '../../src/benchLearning/judgeFixture.js';
import { armSpec, expandArms, judgeArmName, parseFractions } from '../../src/benchLearning/judgeArms.js';
import { recoveryMarkdown, recoveryRows } from '../../src/benchLearning/judgeReport.js';
import { recoveryChart } from '../../src/benchLearning/charts.js';
import type { EpisodeRow } from '../../src/benchLearning/episodes.js';
import type { CellSummary, MeanSd } from '../../src/benchLearning/report.js';

describe('fixture judge', () => {
  const keys = Array.from({ length: 4000 }, (_, i) => `s${1 + (i % 5)}e${Math.floor(i / 5)}`);

  it('answers the true outcome, flipped for about the rubric’s share of runs', () => {
    let erred = 0;
    for (const [i, key] of keys.entries()) {
      const truth = i % 3 !== 0;
      const answer = fixtureJudgeVerdict([judgeRubric(0.2), `<final_response>done ${outcomeMarker(truth, key)}</final_response>`])!;
      expect(answer.erred).toBe(judgeErrs(key, 0.2));
      expect(answer.verdict).toBe(truth !== answer.erred ? 'pass' : 'fail');
      erred += Number(answer.erred);
    }
    expect(erred / keys.length).toBeGreaterThan(0.18);
    expect(erred / keys.length).toBeLessThan(0.22);
  });

  it('errs on the same runs whatever the outcome, and on a superset of them at a higher rate', () => {
    const at = (e: number) => keys.filter((k) => judgeErrs(k, e));
    expect(at(0)).toEqual([]);
    expect(at(1)).toEqual(keys);
    const low = at(0.1);
    const high = new Set(at(0.3));
    expect(low.length).toBeGreaterThan(0);
    expect(low.every((k) => high.has(k))).toBe(true);
    const verdict = (truth: boolean, key: string) => fixtureJudgeVerdict([judgeRubric(0.3), outcomeMarker(truth, key)])!.verdict;
    for (const key of keys.slice(0, 50)) expect(verdict(true, key) === 'pass').toBe(verdict(false, key) === 'fail');
  });

  it('leaves requests without the bench rubric or without a marker to the lesson writer', () => {
    expect(fixtureJudgeVerdict([`<final_response>done ${outcomeMarker(true, 's1e1')}</final_response>`])).toBeUndefined();
    expect(fixtureJudgeVerdict([judgeRubric(0.2), '<final_response>done</final_response>'])).toBeUndefined();
    expect(() => judgeRubric(1.5)).toThrow();
    expect(() => outcomeMarker(true, 'a key')).toThrow();
  });
});

describe('fixture endpoint', () => {
  let fixture: FixtureOpenAI;
  let client: OpenAI;
  beforeAll(async () => {
    fixture = await startFixtureOpenAI();
    client = new OpenAI({ apiKey: 'test', baseURL: fixture.baseURL, maxRetries: 0 });
  });
  afterAll(() => fixture.close());

  const ask = async (system: string, user: string) => {
    const reply = await client.chat.completions.create({ model: 'fixture-llm', messages: [{ role: 'system', content: system }, { role: 'user', content: user }] });
    return JSON.parse(reply.choices[0]!.message.content!) as Record<string, unknown>;
  };

  it('answers a judge prompt (rubric anywhere in the messages) in the judge’s JSON shape', async () => {
    const key = ['s1e1', 's1e2', 's1e3', 's1e4', 's1e5', 's1e6'].find((k) => !judgeErrs(k, 0.2))!;
    const flippedKey = Array.from({ length: 100 }, (_, i) => `s2e${i}`).find((k) => judgeErrs(k, 0.2))!;
    const answer = await ask(`Grade the run. Rubric: ${judgeRubric(0.2)}`, `<final_response>gave up ${outcomeMarker(false, key)}</final_response>`);
    expect(answer).toEqual({ verdict: 'fail', reason: expect.any(String) });
    expect((await ask(judgeRubric(0.2), outcomeMarker(false, flippedKey))).verdict).toBe('pass');
  });

  it('writes a reflection’s lesson from the outcome block alone, not from the marker or the feedback', async () => {
    const prompt = (outcome: string) =>
      `<task>\nTask of kind 0\n</task>\n\n<outcome>\n${outcome}\n</outcome>\n\n<reviewer_feedback>\nThe judge said fail earlier.\n</reviewer_feedback>\n\n<final_response>\ngave up ${outcomeMarker(false, 's1e1')}\n</final_response>`;
    expect((await ask('Reflect.', prompt('pass'))).summary).toBe('Passed: Task of kind 0');
    expect((await ask('Reflect.', prompt('fail'))).summary).toBe('Failed: Task of kind 0');
  });
});

describe('judge arms', () => {
  it('names and expands the judge arms', () => {
    expect(judgeArmName(0.1)).toBe('judge+10%');
    expect(judgeArmName(0.125)).toBe('judge+12.5%');
    expect(parseFractions('1, 0.25,0.1,0.25')).toEqual([0.1, 0.25, 1]);
    expect(() => parseFractions('0,0.5')).toThrow(/human-fractions/);
    expect(parseFractions('none')).toEqual([]);
    expect(expandArms(['defaults', 'judge'], [])).toEqual(['defaults', 'judge']);
    expect(() => parseFractions('1.5')).toThrow(/human-fractions/);
    expect(expandArms(['unreviewed', 'defaults', 'judge'], [0.1, 1])).toEqual(['unreviewed', 'defaults', 'judge', 'judge+10%', 'judge+100%']);
    expect(expandArms(['judge+10%', 'judge'], [0.1])).toEqual(['judge+10%', 'judge']);
    expect(armSpec('judge+25%')).toMatchObject({ reviews: 'judge', humanFraction: 0.25, body: {} });
    expect(armSpec('judge')).toMatchObject({ reviews: 'judge', humanFraction: 0 });
    expect(armSpec('unreviewed')).toMatchObject({ reviews: 'none' });
    expect(armSpec('judge+0%')).toBeUndefined();
    expect(armSpec('judge+101%')).toBeUndefined();
    expect(armSpec('judges')).toBeUndefined();
  });
});

describe('recovery figures', () => {
  const ms = (mean: number, sd = 0.01): MeanSd => ({ mean, sd, n: 3 });
  // Over all episodes: success − 0.1, except judge+25% (0.6: no gain) and judge+100% (0.8: all of the judge's loss).
  const cell = (arm: string, success: number, all = success - 0.1): CellSummary =>
    ({ scenario: 'all-lures', arm, seeds: 3, successLastThird: ms(success), successAll: ms(all) }) as unknown as CellSummary;
  const cells = [cell('unreviewed', 0.1), cell('defaults', 0.9), cell('judge', 0.7), cell('judge+25%', 0.75, 0.6), cell('judge+100%', 0.88, 0.8), cell('similarity', 0.4)];
  const row = (arm: string, judged: number, wrong: number, human: number) => ({ scenario: 'all-lures', arm, judged, judge_wrong: wrong, human_reviewed: human }) as unknown as EpisodeRow;
  // judge: 1 wrong of 4; judge+25%: 1 human review of 4; judge+100%: all reviewed.
  const episodes = [
    ...[0, 1, 0, 0].map((w) => row('judge', 1, w, 0)),
    ...[0, 0, 1, 0].map((h) => row('judge+25%', 1, 0, h)),
    ...[1, 1, 1, 1].map((h, i) => row('judge+100%', 1, i === 0 ? 1 : 0, h)),
    ...[0, 0].map(() => row('unreviewed', 0, 0, 0)),
  ];

  it('computes the share of the judge’s loss won back, in all and per percent of runs reviewed', () => {
    const rows = recoveryRows(cells, episodes);
    expect(rows.map((r) => r.arm)).toEqual(['unreviewed', 'defaults', 'judge', 'judge+25%', 'judge+100%']);
    const by = Object.fromEntries(rows.map((r) => [r.arm, r]));
    // gap perfect − judge = 0.2
    expect(by['judge+25%']!.lastThird.recovered).toBeCloseTo(0.05 / 0.2, 10);
    expect(by['judge+25%']!.lastThird.perPercent).toBeCloseTo(0.25 / 25, 10);
    expect(by['judge+100%']!.lastThird.recovered).toBeCloseTo(0.18 / 0.2, 10);
    expect(by['judge+100%']!.lastThird.perPercent).toBeCloseTo(0.9 / 100, 10);
    expect(by['judge+25%']!.all.recovered).toBeCloseTo(0, 10);
    expect(by['judge+100%']!.all.recovered).toBeCloseTo(1, 10);
    expect(by['judge+100%']!.all.perPercent).toBeCloseTo(0.01, 10);
    expect(by.judge!.lastThird.recovered).toBe(0);
    expect(by.judge!.lastThird.perPercent).toBeNull();
    expect(by.defaults!.lastThird.recovered).toBeNull();
    expect(by.unreviewed!.all.recovered).toBeNull();
    expect(by.unreviewed!.humanFraction).toBeNull();
    expect(by.judge!.judgeErrorRate).toBe(0.25);
    expect(by['judge+25%']!.humanShare).toBe(0.25);
    expect(by['judge+100%']!.humanShare).toBe(1);
    expect(by.defaults!.judgeErrorRate).toBeNull();
  });

  it('averages the server’s agreement figures over the seeds of an arm, leaving out null ratios', () => {
    const run = (arm: string, seed: number, agreement_rate: number | null, kappa: number | null) => ({ scenario: 'all-lures', arm, seed, judged: 60, with_human: 60, agreement_rate, kappa });
    const rows = recoveryRows(cells, episodes, [run('judge+100%', 1, 0.8, 0.5), run('judge+100%', 2, 0.9, null), run('judge', 1, null, null)]);
    const by = Object.fromEntries(rows.map((r) => [r.arm, r]));
    expect(by['judge+100%']!.serverAgreement).toBeCloseTo(0.85, 10);
    expect(by['judge+100%']!.serverKappa).toBe(0.5);
    expect(by.judge!.serverAgreement).toBeNull();
    expect(by.defaults!.serverAgreement).toBeNull();
    const md = recoveryMarkdown(rows, { judgeError: 0.2, humanDelay: 0 });
    expect(md).toMatch(/\| judge\+100% +\| +1\.00 \| +0\.250 \| +1\.000 \| +0\.850 \(0\.50\) \|/);
  });

  it('gives no ratio when the judge loses nothing, and no rows without a judge and a perfect arm', () => {
    const even = recoveryRows([cell('defaults', 0.9), cell('judge', 0.895), cell('judge+25%', 0.9)], episodes);
    expect(even.every((r) => r.lastThird.recovered === null && r.lastThird.perPercent === null)).toBe(true);
    expect(recoveryRows([cell('defaults', 0.9), cell('similarity', 0.4)], episodes)).toEqual([]);
  });

  it('writes the table and the chart', async () => {
    const rows = recoveryRows(cells, episodes);
    const md = recoveryMarkdown(rows, { judgeError: 0.2, humanDelay: 0 });
    expect(md).toMatch(/\| all-lures \| judge\+25% +\| +0\.25 \| +0\.000 \| +0\.250 \| +— \| +0\.750 ± 0\.010 \| +0\.25 \| +0\.0100 \| +0\.600 ± 0\.010 \| +0\.00 \| +0\.0000 \|/);
    expect(md).toContain('wrong for a share 0.2');
    const png = await recoveryChart(rows);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(5000);
  });
});
