import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreementFigures, agreementWindow, type Confusion } from '../../src/judge/agreement.js';
import { buildTestApp, type TestApp } from '../support/app.js';

const confusion = (passPass: number, passFail: number, failPass: number, failFail: number): Confusion => ({ passPass, passFail, failPass, failFail });

describe("agreement figures (judge against human, pass positive), against hand-computed values", () => {
  it("Cohen's κ of the textbook table: 20/5/10/15 → pₒ 0.7, pₑ 0.5, κ 0.4", () => {
    // pₑ = (25/50)(30/50) + (25/50)(20/50) = 0.3 + 0.2
    const f = agreementFigures(confusion(20, 5, 10, 15));
    expect(f.pairs).toBe(50);
    expect(f.agreementRate).toBeCloseTo(0.7, 12);
    expect(f.kappa).toBeCloseTo(0.4, 12);
    expect(f.precision).toBeCloseTo(20 / 25, 12);
    expect(f.recall).toBeCloseTo(20 / 30, 12);
    expect(f.f1).toBeCloseTo(40 / 55, 12); // 2·20 / (2·20 + 5 + 10)
  });

  it('no pairs: every ratio is null, never 0 or 1', () => {
    expect(agreementFigures(confusion(0, 0, 0, 0))).toEqual({ pairs: 0, agreementRate: null, kappa: null, precision: null, recall: null, f1: null });
  });

  it('all pairs agree on pass: κ null (pₑ = 1), precision, recall and F1 are 1', () => {
    expect(agreementFigures(confusion(5, 0, 0, 0))).toEqual({ pairs: 5, agreementRate: 1, kappa: null, precision: 1, recall: 1, f1: 1 });
  });

  it('all pairs agree on fail: κ null, and precision/recall/F1 null (no pass on either side)', () => {
    expect(agreementFigures(confusion(0, 0, 0, 4))).toEqual({ pairs: 4, agreementRate: 1, kappa: null, precision: null, recall: null, f1: null });
  });

  it('the judge passes everything, the human does not: κ 0 (agreement no better than chance)', () => {
    // pₒ = 3/5, pₑ = 1·0.6 + 0·0.4 = 0.6
    const f = agreementFigures(confusion(3, 2, 0, 0));
    expect(f.agreementRate).toBeCloseTo(0.6, 12);
    expect(f.kappa).toBeCloseTo(0, 12);
    expect(f.precision).toBeCloseTo(0.6, 12);
    expect(f.recall).toBe(1);
    expect(f.f1).toBeCloseTo(6 / 8, 12);
  });

  it('the judge never passes: precision null (zero denominator), recall 0, F1 0', () => {
    // pₒ = 3/5, pₑ = 0·0.4 + 1·0.6 = 0.6
    const f = agreementFigures(confusion(0, 0, 2, 3));
    expect(f.precision).toBeNull();
    expect(f.recall).toBe(0);
    expect(f.f1).toBe(0);
    expect(f.kappa).toBeCloseTo(0, 12);
  });

  it('the human never passes: recall null, precision 0', () => {
    const f = agreementFigures(confusion(0, 3, 0, 1));
    expect(f.recall).toBeNull();
    expect(f.precision).toBe(0);
    expect(f.f1).toBe(0);
  });

  it('complete disagreement with balanced verdicts: κ −1', () => {
    const f = agreementFigures(confusion(0, 2, 2, 0));
    expect(f.agreementRate).toBe(0);
    expect(f.kappa).toBeCloseTo(-1, 12);
    expect(f.f1).toBe(0);
  });

  it('a single disagreeing pair: κ 0, not null (pₑ = 0)', () => {
    expect(agreementFigures(confusion(0, 1, 0, 0))).toEqual({ pairs: 1, agreementRate: 0, kappa: 0, precision: 0, recall: null, f1: 0 });
  });

  it('the window defaults to the 30 days before `until` (or now)', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(agreementWindow({}, now)).toEqual({ since: new Date('2026-11-01T12:00:00Z'), until: now });
    const until = new Date('2026-06-10T00:00:00Z');
    expect(agreementWindow({ until }, now)).toEqual({ since: new Date('2026-05-11T00:00:00Z'), until });
  });
});

describe('GET /v1/projects/{project}/judge/agreement', () => {
  let t: TestApp;
  let key: string;
  const sql = (text: string, params: unknown[] = []) => t.app.database.pool.query(text, params);
  const agreement = (project: string, query = '', k = key) => t.call(k, { method: 'GET', url: `/v1/projects/${project}/judge/agreement${query}` });

  beforeAll(async () => {
    t = await buildTestApp();
    key = await t.masterKey('agreement-user', 'agree');
  });
  afterAll(() => t.close());

  /** A trace sent over the API; the human review (if any) too, by `key` ("test"). */
  async function trace(project: string, task: string, human: 'pass' | 'fail' | null, feedback?: string): Promise<string> {
    const created = await t.call(key, { method: 'POST', url: '/v1/traces', project, payload: { task, trajectory: 'ran' } });
    expect(created.statusCode).toBe(202);
    const id = created.json().id as string;
    if (human) {
      const res = await t.call(key, { method: 'POST', url: `/v1/traces/${id}/review`, project, payload: { result: human, feedback_text: feedback } });
      expect(res.statusCode).toBe(200);
    }
    return id;
  }

  /** The judge's verdict as the judge step records it, `daysAgo` days back (the statistics read only these fields). */
  const judged = (id: string, verdict: 'pass' | 'fail', daysAgo: number, reason = `judged ${verdict}`) =>
    sql(
      `update traces set judge_status = 'judged', judge_result = $2, judge_reason = $3, judge_model = 'judge-model',
         judged_at = now() - make_interval(days => $4), judge_attempts = 1 where id = $1`,
      [id, verdict, reason, daysAgo],
    );
  /** A judge review still in force (no human has looked). */
  const judgeReview = (id: string, verdict: 'pass' | 'fail') =>
    sql(`update traces set review_result = $2, review_source = 'judge', review_status = 'reviewed', reviewed_at = judged_at, reviewed_by_key_id = null where id = $1`, [id, verdict]);

  const ids: Record<string, string> = {};

  it('counts the pairs and gives the figures of the hand-computed table', async () => {
    expect((await agreement('agree')).statusCode).toBe(200);
    // 10 pairs in the window: TP 3, FP 1, FN 2, TN 4.
    const pairs: [string, 'pass' | 'fail', 'pass' | 'fail'][] = [
      ['tp1', 'pass', 'pass'], ['tp2', 'pass', 'pass'], ['tp3', 'pass', 'pass'],
      ['fp1', 'pass', 'fail'],
      ['fn1', 'fail', 'pass'], ['fn2', 'fail', 'pass'],
      ['tn1', 'fail', 'fail'], ['tn2', 'fail', 'fail'], ['tn3', 'fail', 'fail'], ['tn4', 'fail', 'fail'],
    ];
    for (const [name, judge, human] of pairs) {
      ids[name] = await trace('agree', `task ${name}`, human, `human says ${human} on ${name}`);
      await judged(ids[name], judge, 2);
    }
    // Judged, no human yet: counted as judged, not as pairs.
    for (const name of ['j1', 'j2']) {
      ids[name] = await trace('agree', `task ${name}`, null);
      await judged(ids[name], 'pass', 1);
      await judgeReview(ids[name], 'pass');
    }
    // A human review without any judge verdict: not judged, not a pair.
    ids.human = await trace('agree', 'task human only', 'fail');
    // Outside the default window: a disagreement 40 days ago.
    ids.old = await trace('agree', 'task old', 'fail', 'old feedback');
    await judged(ids.old, 'pass', 40);
    // Another project of the same user.
    ids.other = await trace('agree-other', 'task elsewhere', 'fail');
    await judged(ids.other, 'pass', 1);
    // The disagreements' human reviews, in a known order (fn2 newest).
    for (const [name, hoursAgo] of [['fp1', 3], ['fn1', 2], ['fn2', 1]] as const) {
      await sql('update traces set reviewed_at = now() - make_interval(hours => $2) where id = $1', [ids[name], hoursAgo]);
    }

    const res = await agreement('agree');
    expect(res.statusCode).toBe(200);
    const a = res.json();
    expect(a).toMatchObject({
      judged: 12,
      with_human: 10,
      agreement_rate: 0.7,
      precision: 0.75,
      recall: 0.6,
      confusion: { judge_pass_human_pass: 3, judge_pass_human_fail: 1, judge_fail_human_pass: 2, judge_fail_human_fail: 4 },
    });
    // pₑ = 0.4·0.5 + 0.6·0.5 = 0.5 → κ = (0.7 − 0.5) / 0.5
    expect(a.kappa).toBeCloseTo(0.4, 12);
    expect(a.f1).toBeCloseTo(6 / 9, 12);
    expect(Date.parse(a.until) - Date.parse(a.since)).toBe(30 * 86_400_000);
    expect(Math.abs(Date.parse(a.until) - Date.now())).toBeLessThan(60_000);

    expect(a.disagreements.map((d: { trace_id: string }) => d.trace_id)).toEqual([ids.fn2, ids.fn1, ids.fp1]);
    expect(a.disagreements[2]).toEqual({
      trace_id: ids.fp1,
      task: 'task fp1',
      judge_result: 'pass',
      judge_reason: 'judged pass',
      human_result: 'fail',
      human_feedback: 'human says fail on fp1',
      reviewer: { key_id: expect.any(String), label: 'test' },
      judged_at: expect.any(String),
      reviewed_at: expect.any(String),
    });
  });

  it('filters by judged_at: since/until move the window', async () => {
    const iso = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    // 45 days back to now: the old disagreement (judge pass, human fail) joins.
    const wide = (await agreement('agree', `?since=${iso(45)}`)).json();
    expect(wide).toMatchObject({ judged: 13, with_human: 11, confusion: { judge_pass_human_fail: 2 } });
    expect(wide.disagreements.map((d: { trace_id: string }) => d.trace_id)).toContain(ids.old);
    // Only the old one: a single disagreeing pair.
    const old = (await agreement('agree', `?since=${iso(45)}&until=${iso(35)}`)).json();
    expect(old).toMatchObject({ judged: 1, with_human: 1, agreement_rate: 0, kappa: 0, precision: 0, recall: null, f1: 0 });
    expect(old.disagreements).toHaveLength(1);
    expect(old.disagreements[0]).toMatchObject({ trace_id: ids.old, human_feedback: 'old feedback' });
    // The last 36 hours: the judge-only traces, no pairs.
    const recent = (await agreement('agree', `?since=${iso(1.5)}`)).json();
    expect(recent).toMatchObject({ judged: 2, with_human: 0, agreement_rate: null, kappa: null, precision: null, recall: null, f1: null, disagreements: [] });
  });

  it('a human override keeps the judge verdict in the pairs (review_source human, judge_result kept)', async () => {
    // j1 was the judge's pass; a human now says fail (the override as helper B stores it).
    await sql(`update traces set review_result = 'fail', review_source = 'human', overridden_at = now(), reviewed_at = now() where id = $1`, [ids.j1]);
    const a = (await agreement('agree')).json();
    expect(a).toMatchObject({ judged: 12, with_human: 11, confusion: { judge_pass_human_fail: 2 } });
    expect(a.disagreements[0].trace_id).toBe(ids.j1);
  });

  it('answers like the project settings: 404 unknown project, 403 another project for a project key, 422 a bad window, 401 without a key', async () => {
    expect((await agreement('nope')).json()).toEqual({ detail: expect.any(String), code: 'not_found' });
    const created = await t.call(key, { method: 'POST', url: '/v1/api-keys', project: 'agree-other', payload: { label: 'other', scopes: ['memories:read'] } });
    const otherKey = created.json().api_key as string;
    expect((await agreement('agree', '', otherKey)).statusCode).toBe(403);
    const own = await agreement('agree-other', '', otherKey);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ judged: 1, with_human: 1, confusion: { judge_pass_human_fail: 1 } });
    const tracesOnly = (await t.call(key, { method: 'POST', url: '/v1/api-keys', project: 'agree', payload: { label: 't', scopes: ['traces:read'] } })).json().api_key as string;
    expect((await agreement('agree', '', tracesOnly)).statusCode).toBe(403);
    const bad = await agreement('agree', '?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z');
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail[0].loc).toEqual(['query', 'since']);
    expect((await agreement('agree', '?since=yesterday')).statusCode).toBe(422);
    expect((await t.call(undefined, { method: 'GET', url: '/v1/projects/agree/judge/agreement' })).statusCode).toBe(401);
  });
});
