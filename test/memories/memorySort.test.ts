import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { drained } from '../support/learning.js';

let t: TestApp;
let key: string;
const project = 'sorting';
beforeAll(async () => {
  // Consolidation off: each review adds its own memory, and the plain learning statement moves the Qs.
  t = await buildTestApp({ REFLECT_CONSOLIDATION: 'off' });
  key = await t.masterKey('sort-user', project);
});
afterAll(async () => {
  await drained(t);
  await t.close();
});

interface Memory {
  id: string;
  q_value: number;
  use_count: number;
  last_used_at: string | null;
  created_at: string;
}

async function memory(task: string): Promise<string> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', project, payload: { task, reflection: `About ${task}` } });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function reviewedRun(retrieved: string[], result: 'pass' | 'fail'): Promise<void> {
  const res = await t.call(key, {
    method: 'POST',
    url: '/v1/traces',
    project,
    payload: { task: `run using ${retrieved.length}`, trajectory: 'x', retrieved_memory_ids: retrieved, review_result: result },
  });
  const id = res.json().id;
  await eventually(async () => {
    const trace = await t.call(key, { method: 'GET', url: `/v1/traces/${id}`, project });
    return trace.json().review_status === 'reviewed' ? true : undefined;
  });
}

async function list(query: string): Promise<Memory[]> {
  const res = await t.call(key, { method: 'GET', url: `/v1/memories${query}`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('memories: use_count, last_used_at and sorting', () => {
  it('counts each Q change of a retrieved memory and sorts by Q, creation and last use', async () => {
    const a = await memory('alpha lesson');
    const b = await memory('beta lesson');
    const c = await memory('gamma lesson');
    const fresh = await list('?limit=500');
    expect(fresh.find((m) => m.id === a)).toMatchObject({ use_count: 0, last_used_at: null, q_value: 0.5 });

    await reviewedRun([a, b], 'pass'); // a, b: 0.5 → 0.65
    await reviewedRun([a], 'fail'); // a: 0.65 → 0.455
    const all = await list('?limit=500');
    const byId = new Map(all.map((m) => [m.id, m]));
    expect(byId.get(a)).toMatchObject({ use_count: 2 });
    expect(byId.get(b)).toMatchObject({ use_count: 1 });
    expect(byId.get(c)).toMatchObject({ use_count: 0, last_used_at: null });
    expect(byId.get(a)!.q_value).toBeCloseTo(0.455, 10);
    expect(byId.get(b)!.q_value).toBeCloseTo(0.65, 10);
    expect(Date.parse(byId.get(a)!.last_used_at!)).toBeGreaterThan(Date.parse(byId.get(b)!.last_used_at!));
    // The memories the two reviews wrote: never used yet.
    const written = all.filter((m) => ![a, b, c].includes(m.id));
    expect(written).toHaveLength(2);
    expect(written.every((m) => m.use_count === 0 && m.last_used_at === null)).toBe(true);

    const ids = (ms: Memory[]) => ms.map((m) => m.id);
    expect(ids(await list('?sort=last_used_at&order=desc')).slice(0, 2)).toEqual([a, b]);
    expect(ids(await list('?sort=last_used_at&order=asc')).slice(0, 2)).toEqual([b, a]);
    expect((await list('?sort=last_used_at&order=asc')).slice(2).every((m) => m.last_used_at === null)).toBe(true);

    const byQ = await list('?sort=q_value&order=desc');
    expect(byQ.map((m) => m.q_value)).toEqual([...byQ.map((m) => m.q_value)].sort((x, y) => y - x));
    expect(byQ[0]!.id).toBe(b);
    expect(ids(await list('?sort=q_value&order=asc'))[0]).toBe(a);

    const byCreation = await list('');
    expect(byCreation.map((m) => m.created_at)).toEqual([...byCreation.map((m) => m.created_at)].sort().reverse());
    expect(ids(await list('?sort=created_at&order=asc')).slice(0, 3)).toEqual([a, b, c]);
    expect((await t.call(key, { method: 'GET', url: '/v1/memories?sort=use_count', project })).statusCode).toBe(422);
  });
});
