import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let key: string;
beforeAll(async () => {
  t = await buildTestApp();
  key = await t.masterKey('stats-user', 'stats');
});
afterAll(() => t.close());

const sql = (text: string, params: unknown[] = []) => t.app.database.pool.query(text, params);

/** A UTC date `daysAgo` before today, as the series labels it. */
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

describe('GET /v1/stats', () => {
  it('gives exact figures on a small known dataset', async () => {
    const stats = (days: number, project = 'stats') => t.call(key, { method: 'GET', url: `/v1/stats?days=${days}`, project });
    expect((await stats(3)).statusCode).toBe(200);
    const { rows } = await sql("select id from projects where slug = 'stats'");
    const project = rows[0].id as string;
    expect((await stats(1, 'stats-other')).statusCode).toBe(200);
    const other = (await sql("select id from projects where slug = 'stats-other'")).rows[0].id as string;

    // Traces: two without review, three passed (today, yesterday, 40 days ago), one failed (yesterday).
    const trace = (review: string | null, reviewedDaysAgo: number | null, p = project) =>
      sql(
        `insert into traces (project_id, task, trajectory, final_response, ingest_status, review_result, review_alpha, reviewed_at)
         values ($1, 't', '[]', '', 'completed', $2, 0.3, now() - make_interval(days => $3))`,
        [p, review, reviewedDaysAgo ?? 0],
      );
    await trace(null, null);
    await trace(null, null);
    await trace('pass', 0);
    await trace('pass', 1);
    await trace('pass', 40);
    await trace('fail', 1);
    await trace('fail', 0, other);

    // Memories with known Q-values and creation days.
    const memories: [number, number][] = [
      [0, 0],
      [0.05, 0],
      [0.5, 0],
      [0.55, 2],
      [1, 100],
    ];
    for (const [q, daysAgo] of memories) {
      const res = await t.call(key, { method: 'POST', url: '/v1/memories', project: 'stats', payload: { task: `memory ${q}`, reflection: 'r' } });
      await sql('update memories set q_value = $1, created_at = now() - make_interval(days => $2) where id = $3', [q, daysAgo, res.json().id]);
    }
    await t.call(key, { method: 'POST', url: '/v1/memories', project: 'stats-other', payload: { task: 'elsewhere', reflection: 'r' } });

    const call = (p: string, tokensIn: number, tokensOut: number, daysAgo: number) =>
      sql(
        `insert into llm_calls (project_id, purpose, model, tokens_in, tokens_out, latency_ms, outcome, created_at)
         values ($1, 'reflection', 'm', $2, $3, 10, 'ok', now() - make_interval(days => $4))`,
        [p, tokensIn, tokensOut, daysAgo],
      );
    await call(project, 10, 5, 0);
    await call(project, 20, 7, 0);
    await call(project, 1, 1, 1);
    await call(other, 100, 100, 0);

    const res = await stats(3);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ traces: 6, pending_reviews: 2, memories: 5, reviewed: 4, passed: 3, failed: 1, pass_rate: 0.75 });
    expect(body.days).toEqual([
      { date: day(2), pass: 0, fail: 0, pass_rate: null, memories_created: 1, llm_calls: 0, tokens_in: 0, tokens_out: 0 },
      { date: day(1), pass: 1, fail: 1, pass_rate: 0.5, memories_created: 0, llm_calls: 1, tokens_in: 1, tokens_out: 1 },
      { date: day(0), pass: 1, fail: 0, pass_rate: 1, memories_created: 3, llm_calls: 2, tokens_in: 30, tokens_out: 12 },
    ]);
    expect(body.q_histogram).toHaveLength(10);
    expect(body.q_histogram[0]).toEqual({ from: 0, to: 0.1, count: 2 });
    expect(body.q_histogram[5]).toEqual({ from: 0.5, to: 0.6, count: 2 });
    expect(body.q_histogram[9]).toEqual({ from: 0.9, to: 1, count: 1 });
    expect(body.q_histogram.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(5);

    const month = (await stats(30)).json();
    expect(month.days).toHaveLength(30);
    expect(month.days.at(-1).date).toBe(day(0));
    expect(month.days.reduce((n: number, d: { pass: number }) => n + d.pass, 0)).toBe(2); // the 40-day-old pass is outside
    expect((await t.call(key, { method: 'GET', url: '/v1/stats', project: 'stats' })).json().days).toHaveLength(30);
  });

  it.each(['?days=0', '?days=367', '?days=abc'])('%s → 422', async (query) => {
    expect((await t.call(key, { method: 'GET', url: `/v1/stats${query}` })).statusCode).toBe(422);
  });
});
