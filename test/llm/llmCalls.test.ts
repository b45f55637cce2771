import { describe, expect, it } from 'vitest';
import { createLlmCallRecorder } from '../../src/llm/usage/recorder.js';
import { eventually } from '../support/app.js';
import { createTrace, drained, useLoopApp, waitForTrace } from '../support/learning.js';
import { done, searchMemories } from '../reflect/support.js';

const f = useLoopApp('embedded');

interface LlmCall {
  id: string;
  purpose: string;
  model: string;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
  outcome: 'ok' | 'error';
  error: string | null;
  trace_id: string | null;
  request_id: string | null;
}

async function calls(query = '', project?: string): Promise<{ calls: LlmCall[]; next?: string }> {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/llm-calls${query}`, project });
  expect(res.statusCode, res.body).toBe(200);
  return { calls: res.json(), next: res.headers['x-next-cursor'] as string | undefined };
}

/** Waits for `n` recorded calls matching `query` (writes do not hold up the LLM call, so they land just after). */
const recorded = (n: number, query: string, project?: string) =>
  eventually(async () => {
    const page = await calls(query, project);
    return page.calls.length >= n ? page.calls : undefined;
  });

describe('llm_calls', () => {
  it('records a reflection with its model, tokens, latency and trace', async () => {
    const project = 'usage-ok';
    const id = await createTrace(f, { task: 'Count the orders', trajectory: 'x', review_result: 'pass' }, project);
    await waitForTrace(f, id, undefined, project);
    const [call] = await recorded(1, `?purpose=reflection`, project);
    expect(call).toMatchObject({ purpose: 'reflection', model: 'gpt-4o-mini', outcome: 'ok', error: null, trace_id: id, request_id: null });
    expect(call!.tokens_in).toBeGreaterThan(0);
    expect(call!.tokens_out).toBeGreaterThan(0);
    expect(call!.latency_ms).toBeGreaterThanOrEqual(0);
    // Another project sees none of it.
    expect((await calls('', 'usage-elsewhere')).calls).toEqual([]);
  });

  it('records failures with a short reason and no secret: a retried 500, a final 401', async () => {
    const project = 'usage-errors';
    f.fake.enqueue({ status: 500 });
    const retried = await createTrace(f, { task: 'Retried reflection', trajectory: 'x', review_result: 'fail' }, project);
    await waitForTrace(f, retried, undefined, project);
    f.fake.enqueue({ status: 401, body: { error: { message: 'Incorrect API key provided: sk-live-secret-123456', type: 'invalid_request_error' } } });
    const failed = await createTrace(f, { task: 'Failed reflection', trajectory: 'x', review_result: 'fail' }, project);
    expect((await waitForTrace(f, failed, undefined, project)).ingest_status).toBe('failed');

    const all = await recorded(3, '', project);
    const ofRetried = all.filter((c) => c.trace_id === retried);
    expect(ofRetried.map((c) => [c.outcome, c.error])).toEqual([
      ['ok', null],
      ['error', 'HTTP 500 (fake_error)'],
    ]);
    const [ofFailed] = all.filter((c) => c.trace_id === failed);
    expect(ofFailed).toMatchObject({ outcome: 'error', error: 'HTTP 401 (invalid_request_error)', tokens_in: 0, tokens_out: 0 });
    expect(JSON.stringify(all)).not.toContain('sk-live-secret');

    expect((await calls('?outcome=error', project)).calls.map((c) => c.trace_id).sort()).toEqual([retried, failed].sort());
    expect((await calls('?outcome=ok', project)).calls.map((c) => c.trace_id)).toEqual([retried]);
    expect((await calls('?purpose=reflect', project)).calls).toEqual([]);
  });

  it('records reflect calls with the request id, and a refresh as mental_model_refresh', async () => {
    const bank = 'usage-reflect';
    f.fake.enqueue(searchMemories('orders'), done('Filter by date.'));
    const reflect = await f.t.call(f.key, { method: 'POST', url: `/v1/default/banks/${bank}/reflect`, payload: { query: 'How to count orders?' } });
    expect(reflect.statusCode, reflect.body).toBe(200);
    const requestId = reflect.headers['x-request-id'];
    const reflectCalls = await recorded(2, '?purpose=reflect', bank);
    expect(reflectCalls.every((c) => c.request_id === requestId && c.outcome === 'ok' && c.trace_id === null)).toBe(true);

    const model = await f.t.call(f.key, { method: 'POST', url: `/v1/default/banks/${bank}/mental-models`, payload: { name: 'Orders', source_query: 'How are orders counted?' } });
    expect(model.statusCode, model.body).toBeLessThan(300);
    f.fake.enqueue(searchMemories('orders'), done('By date.'));
    const refresh = await f.t.call(f.key, { method: 'POST', url: `/v1/default/banks/${bank}/mental-models/${model.json().id}/refresh` });
    expect(refresh.statusCode, refresh.body).toBe(200);
    const refreshCalls = await recorded(2, '?purpose=mental_model_refresh', bank);
    expect(refreshCalls.every((c) => c.request_id === refresh.headers['x-request-id'])).toBe(true);
    expect((await calls('?purpose=reflect', bank)).calls).toHaveLength(reflectCalls.length);
  });

  it('pages newest first with a cursor, and filters by time', async () => {
    const project = 'usage-paging';
    await calls('', project); // a master key naming a project creates it
    const { rows } = await f.t.app.database.pool.query('select id from projects where slug = $1', [project]);
    const projectId = rows[0].id as string;
    for (let i = 0; i < 5; i++) {
      await f.t.app.database.pool.query(
        `insert into llm_calls (project_id, purpose, model, tokens_in, tokens_out, latency_ms, outcome, created_at)
         values ($1, 'reflection', $2, 1, 1, 1, 'ok', '2026-11-10T00:00:00Z'::timestamptz + make_interval(hours => $3))`,
        [projectId, `m${i}`, i % 3], // ties on created_at: the id orders them
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await calls(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`, project);
      seen.push(...page.calls.map((c) => c.model));
      cursor = page.next;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect(seen.slice(0, 1)).toEqual(['m2']);
    expect((await calls('?created_after=2026-11-10T01:00:00Z', project)).calls.map((c) => c.model).sort()).toEqual(['m1', 'm2', 'm4']);
    expect((await calls('?created_before=2026-11-10T01:00:00Z', project)).calls.map((c) => c.model).sort()).toEqual(['m0', 'm3']);
    for (const bad of ['?limit=501', '?outcome=maybe', '?cursor=x', '?created_after=soon']) {
      expect((await f.t.call(f.key, { method: 'GET', url: `/v1/llm-calls${bad}`, project })).statusCode).toBe(422);
    }
  });

  it('prunes rows older than the retention; 0 keeps them', async () => {
    await drained(f.t);
    const pool = f.t.app.database.pool;
    await pool.query(
      `insert into llm_calls (purpose, model, latency_ms, outcome, created_at)
       values ('old', 'm', 1, 'ok', now() - interval '31 days'), ('recent', 'm', 1, 'ok', now() - interval '29 days')`,
    );
    const count = async (purpose: string) => (await pool.query('select count(*)::int as n from llm_calls where purpose = $1', [purpose])).rows[0].n;
    const log = f.t.app.log;
    const forever = createLlmCallRecorder({ db: f.t.app.database.db, log, retentionDays: 0 });
    expect(await forever.prune()).toBe(0);
    expect(await count('old')).toBe(1);

    expect(f.t.config.llmCallRetentionDays).toBe(30);
    expect(await f.t.app.llmUsage.prune()).toBe(1);
    expect(await count('old')).toBe(0);
    expect(await count('recent')).toBe(1);
  });
});
