import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceWire } from '../../src/traces/models.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { drained } from '../support/learning.js';

let t: TestApp;
let master: string;
beforeAll(async () => {
  t = await buildTestApp();
  master = await t.masterKey('queue-user', 'default');
});
afterAll(async () => {
  await drained(t);
  await t.close();
});

interface Reviewer {
  id: string;
  key: string;
  label: string;
}

async function reviewer(project: string, label: string): Promise<Reviewer> {
  const res = await t.call(master, { method: 'POST', url: '/v1/api-keys', project, payload: { label, scopes: ['traces:read', 'traces:write'] } });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id, key: res.json().api_key, label };
}

/** Pending traces, oldest first, with distinct creation times. */
async function pendingTraces(project: string, n: number, extra: object = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await t.call(master, { method: 'POST', url: '/v1/traces', project, payload: { task: `queued ${i}`, trajectory: 'x', ...extra } });
    ids.push(res.json().id);
  }
  for (const [i, id] of ids.entries()) {
    await t.app.database.pool.query("update traces set created_at = '2026-11-01T00:00:00Z'::timestamptz + make_interval(mins => $1) where id = $2", [i, id]);
  }
  return ids;
}

async function claim(who: Reviewer, body: object = {}) {
  const res = await t.call(who.key, { method: 'POST', url: '/v1/review-queue/claim', payload: body });
  if (res.statusCode === 204) return undefined;
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { trace: TraceWire; lease_expires_at: string };
}

const claimedId = async (who: Reviewer, body: object = {}) => (await claim(who, body))?.trace.id;

async function review(who: Reviewer, id: string, result = 'pass') {
  return t.call(who.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result } });
}

async function expireLeases(ids: string[]) {
  await t.app.database.pool.query("update traces set lease_expires_at = now() - interval '1 second' where id = any($1)", [ids]);
}

describe('review queue claims', () => {
  it('hands out the oldest unreviewed trace first, with a lease the trace shows; after/before move along the queue', async () => {
    const project = 'queue-order';
    const [a, b, c, d] = await pendingTraces(project, 4);
    const alice = await reviewer(project, 'alice');
    const before = Date.now();
    const first = await claim(alice);
    expect(first!.trace.id).toBe(a);
    const expires = Date.parse(first!.lease_expires_at);
    expect(expires).toBeGreaterThan(before + 290_000); // the 5-minute default
    expect(expires).toBeLessThan(Date.now() + 310_000);
    expect(first!.trace.lease).toEqual({ key_id: alice.id, label: 'alice', expires_at: first!.lease_expires_at });

    expect(await claimedId(alice, { after: a })).toBe(b);
    expect(await claimedId(alice, { after: b })).toBe(c);
    expect(await claimedId(alice, { before: c })).toBe(b);
    expect(await claimedId(alice, { before: a })).toBeUndefined(); // nothing before the oldest: 204
    expect(await claimedId(alice, { after: d })).toBeUndefined();

    // A reviewed trace leaves the queue.
    expect((await review(alice, b!)).statusCode).toBe(200);
    expect(await claimedId(alice, { after: a })).toBe(c);
    expect(await claimedId(alice)).toBe(a);
  });

  it('two keys claiming at the same time never get the same trace; the next claim skips the other key’s lease', async () => {
    const project = 'queue-race';
    const ids = await pendingTraces(project, 8);
    const keys = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((label) => reviewer(project, label)));
    const claimed = await Promise.all(keys.map((k) => claimedId(k)));
    expect(new Set(claimed).size).toBe(4);
    expect(claimed.every((id) => ids.includes(id!))).toBe(true);
    // Each asks for the one after its own: still never one another key holds.
    const next = await Promise.all(keys.map((k, i) => claimedId(k, { after: claimed[i] })));
    expect(new Set(next).size).toBe(4);
    const held = await Promise.all(
      ids.map(async (id) => (await t.call(master, { method: 'GET', url: `/v1/traces/${id}`, project })).json().lease as TraceWire['lease']),
    );
    // Claiming the next ended each key's previous lease: exactly one live lease per key.
    expect(held.filter(Boolean).map((l) => l!.label).sort()).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('a review by another key while the lease is live is 409 trace_leased; the holder may review; an expired lease blocks nobody', async () => {
    const project = 'queue-lease';
    const [x, y] = await pendingTraces(project, 2);
    const alice = await reviewer(project, 'alice');
    const bob = await reviewer(project, 'bob');
    expect(await claimedId(alice)).toBe(x);
    expect(await claimedId(bob)).toBe(y); // x is alice's

    const blocked = await review(bob, x!);
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toEqual({ code: 'trace_leased', detail: expect.stringContaining('alice') });
    expect((await t.call(master, { method: 'GET', url: `/v1/traces/${x}`, project })).json()).toMatchObject({ review: null });

    await expireLeases([y!]);
    expect(await claimedId(alice, { after: x })).toBe(y); // bob's lease is over
    const mine = await review(alice, y!, 'fail');
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ lease: null, review: { result: 'fail', reviewer: { key_id: alice.id, label: 'alice' } } });
    const second = await review(bob, y!);
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe('conflict');

    await expireLeases([x!]);
    expect((await review(bob, x!)).statusCode).toBe(200);
    expect(await claimedId(bob)).toBeUndefined();
  });

  it('DELETE ends the caller’s lease; claiming ends its other leases; an unknown anchor is 404; bad bodies 422', async () => {
    const project = 'queue-release';
    const [p, q] = await pendingTraces(project, 2);
    const alice = await reviewer(project, 'alice');
    const bob = await reviewer(project, 'bob');
    expect(await claimedId(alice)).toBe(p);
    expect((await t.call(alice.key, { method: 'DELETE', url: '/v1/review-queue/claim' })).statusCode).toBe(204);
    expect(await claimedId(bob)).toBe(p);
    expect(await claimedId(bob, { after: p })).toBe(q);
    expect(await claimedId(alice)).toBe(p); // bob's claim of q ended his lease on p

    const unknown = await t.call(alice.key, { method: 'POST', url: '/v1/review-queue/claim', payload: { after: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.statusCode).toBe(404);
    for (const payload of [{ after: 'nope' }, { after: p, before: q }]) {
      expect((await t.call(alice.key, { method: 'POST', url: '/v1/review-queue/claim', payload })).statusCode).toBe(422);
    }
  });
});

describe('bulk review', () => {
  it('reports each trace: queued, conflict (reviewed, or leased by another key) or not_found (unknown, or of another project)', async () => {
    const project = 'bulk';
    const [fresh1, fresh2, reviewed, leased] = await pendingTraces(project, 4);
    const [elsewhere] = await pendingTraces('bulk-other', 1);
    const alice = await reviewer(project, 'alice');
    const bob = await reviewer(project, 'bob');
    expect((await review(alice, reviewed!)).statusCode).toBe(200);
    expect(await claimedId(bob, { after: reviewed })).toBe(leased);
    const unknown = '00000000-0000-4000-8000-000000000000';

    const res = await t.call(alice.key, {
      method: 'POST',
      url: '/v1/traces/bulk-review',
      payload: { result: 'fail', feedback_text: 'bulk', alpha: 0.2, trace_ids: [fresh1, reviewed, leased, elsewhere, unknown, fresh2] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.results.map((r: { trace_id: string; status: string }) => [r.trace_id, r.status])).toEqual([
      [fresh1, 'queued'],
      [reviewed, 'conflict'],
      [leased, 'conflict'],
      [elsewhere, 'not_found'],
      [unknown, 'not_found'],
      [fresh2, 'queued'],
    ]);
    expect(body.results[2].detail).toContain('bob');
    expect(body).toMatchObject({ queued: 2, conflicts: 2 });

    await drained(t);
    for (const id of [fresh1, fresh2]) {
      const trace = (await t.call(master, { method: 'GET', url: `/v1/traces/${id}`, project })).json();
      expect(trace).toMatchObject({
        review_status: 'reviewed',
        review: { result: 'fail', feedback_text: 'bulk', alpha: 0.2, reviewer: { key_id: alice.id, label: 'alice' } },
      });
      expect(trace.created_memory_id).toEqual(expect.any(String));
    }
    const untouched = (await t.call(master, { method: 'GET', url: `/v1/traces/${elsewhere}`, project: 'bulk-other' })).json();
    expect(untouched.review).toBeNull();
    expect((await t.call(master, { method: 'GET', url: `/v1/traces/${leased}`, project })).json().review).toBeNull();
  });

  it('by filter: the newest matching traces up to limit', async () => {
    const project = 'bulk-filter';
    const ids = await pendingTraces(project, 3, { metadata: { batch: 'b1' } });
    const [other] = await pendingTraces(project, 1, { metadata: { batch: 'b2' } });
    const res = await t.call(master, {
      method: 'POST',
      url: '/v1/traces/bulk-review',
      project,
      payload: { result: 'pass', filter: { review_status: 'pending', metadata_key: 'batch', metadata_value: 'b1' }, limit: 2 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ queued: 2, conflicts: 0 });
    expect(res.json().results.map((r: { trace_id: string }) => r.trace_id)).toEqual([ids[2], ids[1]]);
    await drained(t); // review_status turns to reviewed once the worker wrote the memory
    const pending = await t.call(master, { method: 'GET', url: '/v1/traces?review_status=pending', project });
    expect(new Set(pending.json().map((tr: TraceWire) => tr.id))).toEqual(new Set([ids[0], other]));
  });

  it.each([
    ['no ids and no filter', { result: 'pass' }],
    ['both ids and filter', { result: 'pass', trace_ids: ['00000000-0000-4000-8000-000000000000'], filter: {} }],
    ['an empty id list', { result: 'pass', trace_ids: [] }],
    ['1001 ids', { result: 'pass', trace_ids: Array.from({ length: 1001 }, () => '00000000-0000-4000-8000-000000000000') }],
    ['a bad result', { result: 'maybe', trace_ids: ['00000000-0000-4000-8000-000000000000'] }],
    ['a limit over 1000', { result: 'pass', filter: {}, limit: 1001 }],
    ['an unknown filter field', { result: 'pass', filter: { colour: 'red' } }],
  ])('%s → 422, nothing written', async (_case, payload) => {
    const project = 'bulk-invalid';
    const [id] = await pendingTraces(project, 1);
    const res = await t.call(master, { method: 'POST', url: '/v1/traces/bulk-review', project, payload });
    expect(res.statusCode).toBe(422);
    expect((await t.call(master, { method: 'GET', url: `/v1/traces/${id}`, project })).json().review).toBeNull();
  });
});
