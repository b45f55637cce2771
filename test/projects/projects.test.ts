import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { drained } from '../support/learning.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

interface Summary {
  id: string;
  slug: string;
  trace_count: number;
  pending_review_count: number;
  memory_count: number;
}

async function projectsOf(key: string): Promise<Summary[]> {
  const res = await t.call(key, { method: 'GET', url: '/v1/projects' });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function trace(key: string, project: string, extra: object = {}) {
  const res = await t.call(key, { method: 'POST', url: '/v1/traces', project, payload: { task: 'a task', trajectory: 'x', ...extra } });
  expect(res.statusCode).toBe(202);
}

describe('GET /v1/projects', () => {
  it('a master key sees every project of its user with counts; a project key only its own; other users none', async () => {
    const master = await t.masterKey('proj-user', 'alpha');
    await trace(master, 'alpha');
    await trace(master, 'alpha');
    await trace(master, 'beta');
    await trace(master, 'beta', { review_result: 'pass' });
    const memory = await t.call(master, { method: 'POST', url: '/v1/memories', project: 'beta', payload: { task: 't', reflection: 'r' } });
    expect(memory.statusCode).toBe(201);
    await drained(t); // the reviewed trace's memory (a template reflection) is written
    const other = await t.masterKey('someone-else', 'gamma');
    await trace(other, 'gamma');

    const all = await projectsOf(master);
    expect(all.map((p) => ({ slug: p.slug, traces: p.trace_count, pending: p.pending_review_count, memories: p.memory_count }))).toEqual([
      { slug: 'alpha', traces: 2, pending: 2, memories: 0 },
      { slug: 'beta', traces: 2, pending: 1, memories: 2 },
    ]);

    const created = await t.call(master, { method: 'POST', url: '/v1/api-keys', project: 'beta', payload: { label: 'beta only', scopes: ['traces:read'] } });
    expect(created.statusCode).toBe(201);
    const own = await projectsOf(created.json().api_key);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ slug: 'beta', id: all[1]!.id, trace_count: 2 });

    expect((await projectsOf(other)).map((p) => p.slug)).toEqual(['gamma']);
  });

  it('answers 401 without a valid key', async () => {
    expect((await t.call(undefined, { method: 'GET', url: '/v1/projects' })).statusCode).toBe(401);
    expect((await t.call('rf_live_nope_0123456789abcdef0123456789abcdef', { method: 'GET', url: '/v1/projects' })).statusCode).toBe(401);
  });
});
