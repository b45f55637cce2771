import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceWire } from '../../src/traces/models.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { drained } from '../support/learning.js';

let t: TestApp;
let key: string;
beforeAll(async () => {
  t = await buildTestApp();
  key = await t.masterKey('list-user', 'default');
});
afterAll(async () => {
  await drained(t);
  await t.close();
});

async function create(project: string, body: Record<string, unknown>): Promise<string> {
  const res = await t.call(key, { method: 'POST', url: '/v1/traces', project, payload: { trajectory: [{ role: 'user', content: 'hi' }], ...body } });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().id;
}

async function list(project: string, query: string) {
  const res = await t.call(key, { method: 'GET', url: `/v1/traces${query}`, project });
  expect(res.statusCode, res.body).toBe(200);
  const traces = res.json() as TraceWire[];
  return {
    traces,
    ids: traces.map((tr) => tr.id),
    total: Number(res.headers['x-total-count']),
    next: res.headers['x-next-cursor'] as string | undefined,
  };
}

describe('GET /v1/traces filters', () => {
  const project = 'filters';
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ids.a = await create(project, { task: 'Count the ORDERS of March', model: 'm1', metadata: { env: 'prod', team: 'a' } });
    ids.b = await create(project, { task: 'Refund an order', model: 'm2', metadata: { env: 'staging' } });
    ids.c = await create(project, { task: '100% done_ok', model: 'm1', metadata: { env: 'prod' }, review_result: 'pass' });
    ids.d = await create(project, { task: 'Unrelated', metadata: { env: 'prod', n: 3 } });
    await drained(t);
    // Known creation times: a, b on Nov 1st, c on Nov 2nd, d on Nov 3rd.
    const at = { a: '2026-11-01T10:00:00Z', b: '2026-11-01T12:00:00Z', c: '2026-11-02T10:00:00Z', d: '2026-11-03T10:00:00Z' };
    for (const [name, time] of Object.entries(at)) {
      await t.app.database.pool.query('update traces set created_at = $1 where id = $2', [time, ids[name]]);
    }
  });

  const expectIds = async (query: string, names: string[]) => {
    const page = await list(project, query);
    expect(page.ids, query).toEqual(names.map((n) => ids[n]));
    expect(page.total, query).toBe(names.length);
  };

  it('each filter alone', async () => {
    await expectIds('', ['d', 'c', 'b', 'a']);
    await expectIds('?review_status=reviewed', ['c']);
    await expectIds('?review_status=pending', ['d', 'b', 'a']);
    await expectIds('?ingest_status=completed', ['d', 'c', 'b', 'a']);
    await expectIds('?model=m1', ['c', 'a']);
    await expectIds('?metadata_key=env&metadata_value=prod', ['d', 'c', 'a']);
    await expectIds('?metadata_key=team&metadata_value=a', ['a']);
    // A number in metadata compares as its text, as ->> gives it.
    await expectIds('?metadata_key=n&metadata_value=3', ['d']);
    await expectIds('?created_after=2026-11-02T00:00:00Z', ['d', 'c']);
    await expectIds('?created_before=2026-11-02T00:00:00Z', ['b', 'a']);
    await expectIds('?created_after=2026-11-01T11:00:00Z&created_before=2026-11-03T00:00:00Z', ['c', 'b']);
    await expectIds('?created_after=2026-11-02', ['d', 'c']);
    await expectIds('?q=orders', ['a']);
    await expectIds('?q=ORDER', ['b', 'a']);
    // LIKE's wildcards in the text match only themselves.
    await expectIds(`?q=${encodeURIComponent('100%')}`, ['c']);
    await expectIds('?q=%25', ['c']);
    await expectIds('?q=done_ok', ['c']);
    await expectIds('?q=n_o', []); // unescaped, _ would match "an order"
  });

  it('all combined', async () => {
    await expectIds('?model=m1&metadata_key=env&metadata_value=prod&q=march&created_before=2026-11-02T00:00:00Z&review_status=pending&ingest_status=completed', ['a']);
    await expectIds('?model=m1&review_status=pending&created_after=2026-11-02T00:00:00Z', []);
  });

  it('include_trajectory=false leaves trajectories out, everything else in', async () => {
    const full = await list(project, '');
    const light = await list(project, '?include_trajectory=false');
    expect(light.traces.every((tr) => tr.trajectory.length === 0)).toBe(true);
    expect(full.traces.every((tr) => tr.trajectory.length === 1)).toBe(true);
    expect(light.traces).toEqual(full.traces.map((tr) => ({ ...tr, trajectory: [] })));
  });

  it.each([
    '?metadata_key=env',
    '?metadata_value=prod',
    '?created_after=yesterday',
    '?created_before=2026-13-45T00:00:00Z',
    '?cursor=garbage',
    `?cursor=${Buffer.from('["2026-01-01", "not-a-uuid"]').toString('base64url')}`,
    '?include_trajectory=maybe',
    '?q=',
  ])('%s → 422', async (query) => {
    const res = await t.call(key, { method: 'GET', url: `/v1/traces${query}`, project });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('validation_error');
  });
});

describe('GET /v1/traces cursor pagination', () => {
  it('walks every trace once, in order, while new traces arrive, including ties on created_at', async () => {
    const project = 'paging';
    const original: string[] = [];
    for (let i = 0; i < 23; i++) original.push(await create(project, { task: `paged ${i}`, metadata: { parity: i % 2 ? 'odd' : 'even' } }));
    // Seven traces share one timestamp to the microsecond: only the id orders them.
    await t.app.database.pool.query("update traces set created_at = '2026-11-05T00:00:00.123456Z' where id = any($1)", [original.slice(5, 12)]);
    const expected = (await list(project, '?limit=500')).ids;
    expect(new Set(expected)).toEqual(new Set(original));

    const seen: string[] = [];
    const totals: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list(project, `?limit=5&include_trajectory=false${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.ids);
      totals.push(page.total);
      cursor = page.next;
      pages++;
      // Newer traces arrive between pages: they sort before the cursor, so this walk never sees them.
      await create(project, { task: `arrived after page ${pages}` });
    } while (cursor);
    expect(seen).toEqual(expected);
    expect(pages).toBe(5); // 23 rows by 5: the last page holds 3 and has no X-Next-Cursor
    // The walk keeps the total its first page counted (the cursor carries it), arrivals aside.
    expect(totals).toEqual([23, 23, 23, 23, 23]);
    expect((await list(project, '')).total).toBe(28);

    // With a filter the cursor keeps to it.
    const odd: string[] = [];
    cursor = undefined;
    do {
      const page = await list(project, `?limit=4&metadata_key=parity&metadata_value=odd${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.total).toBe(11);
      odd.push(...page.ids);
      cursor = page.next;
    } while (cursor);
    expect(odd).toEqual(expected.filter((id) => original.indexOf(id) % 2 === 1));
  });

  it('a full last page has no next cursor only when nothing follows it', async () => {
    const project = 'exact-pages';
    for (let i = 0; i < 4; i++) await create(project, { task: `exact ${i}` });
    const first = await list(project, '?limit=2');
    expect(first.next).toBeDefined();
    const second = await list(project, `?limit=2&cursor=${first.next}`);
    expect(second.ids).toHaveLength(2);
    expect(second.next).toBeUndefined();
  });
});

describe('who reviewed', () => {
  it('review.reviewer is the key that sent the review, inline or later', async () => {
    const project = 'reviewers';
    const created = await t.call(key, {
      method: 'POST',
      url: '/v1/api-keys',
      project,
      payload: { label: 'alice', scopes: ['traces:read', 'traces:write'] },
    });
    const alice = created.json() as { id: string; api_key: string };
    const later = await create(project, { task: 'reviewed later' });
    const review = await t.call(alice.api_key, { method: 'POST', url: `/v1/traces/${later}/review`, payload: { result: 'fail' } });
    expect(review.statusCode).toBe(200);
    expect(review.json().review.reviewer).toEqual({ key_id: alice.id, label: 'alice' });

    const inline = await t.call(alice.api_key, { method: 'POST', url: '/v1/traces', payload: { task: 'inline', trajectory: 'x', review_result: 'pass' } });
    const inlineTrace = await t.call(key, { method: 'GET', url: `/v1/traces/${inline.json().id}`, project });
    expect(inlineTrace.json().review.reviewer).toEqual({ key_id: alice.id, label: 'alice' });
    const pending = await create(project, { task: 'not reviewed' });
    const listed = await list(project, '');
    expect(listed.traces.find((tr) => tr.id === pending)).toMatchObject({ review: null, lease: null });
    expect(listed.traces.find((tr) => tr.id === later)!.review!.reviewer).toEqual({ key_id: alice.id, label: 'alice' });
  });
});

describe('X-Total-Count', () => {
  it('stays exact as traces arrive and reviews land (a reused count only where nothing could change it)', async () => {
    const project = 'totals';
    const total = async (query: string) => (await list(project, query)).total;
    for (let i = 0; i < 3; i++) await create(project, { task: `counted ${i}`, model: 'm' });
    expect(await total('?model=m')).toBe(3);
    expect(await total('?model=m&limit=1')).toBe(3); // the same count, reused
    expect(await total('')).toBe(3);
    const fourth = await create(project, { task: 'counted 3', model: 'm' });
    expect(await total('?model=m')).toBe(4);
    expect(await total('')).toBe(4);
    await create(project, { task: 'other model', model: 'n' });
    expect(await total('?model=m')).toBe(4);
    expect(await total('')).toBe(5);

    expect(await total('?review_status=pending')).toBe(5);
    const review = await t.call(key, { method: 'POST', url: `/v1/traces/${fourth}/review`, payload: { result: 'pass' }, project });
    expect(review.statusCode).toBe(200);
    await drained(t);
    expect(await total('?review_status=pending')).toBe(4);
    expect(await total('?review_status=reviewed&model=m')).toBe(1);
  });
});
