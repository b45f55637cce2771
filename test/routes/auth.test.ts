import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let master: string;
beforeAll(async () => {
  t = await buildTestApp();
  master = await t.masterKey('auth-user', 'default');
});
afterAll(() => t.close());

const trace = { task: 'add two numbers', trajectory: [{ role: 'assistant', content: '4' }] };

/** Row counts of every table a request could write to. */
async function counts() {
  return { traces: await t.count('traces'), projects: await t.count('projects'), api_keys: await t.count('api_keys'), users: await t.count('users') };
}

/** Sends a trace (the most writing request there is) and proves it was rejected with `status` and wrote nothing. */
async function rejectsTraceWrite(status: number, code: string, call: (payload: object) => ReturnType<TestApp['call']>) {
  const before = await counts();
  const res = await call(trace);
  expect(res.statusCode).toBe(status);
  expect(res.json()).toEqual({ detail: expect.any(String), code });
  expect(await counts()).toEqual(before);
  return res;
}

async function projectKey(scopes: string[], project?: string, key = master): Promise<{ id: string; api_key: string }> {
  const res = await t.call(key, { method: 'POST', url: '/v1/api-keys', project, payload: { label: 'k', scopes } });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function projectSlugs(user: string): Promise<string[]> {
  const { rows } = await t.app.database.pool.query(
    'select p.slug from projects p join users u on u.id = p.owner_user_id where u.external_id = $1 order by p.slug',
    [user],
  );
  return rows.map((r) => r.slug as string);
}

describe('who is calling', () => {
  it('401 without a key, and writes nothing', async () => {
    await rejectsTraceWrite(401, 'unauthorized', (payload) => t.call(undefined, { method: 'POST', url: '/v1/traces', payload }));
    expect((await t.call(undefined, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(401);
  });

  it.each([
    ['not a key at all', 'Bearer hello'],
    ['a wrong prefix', `Bearer sk_live_abcdefghijkl_${'a'.repeat(40)}`],
    ['an unknown environment', `Bearer rf_prod_abcdefghijkl_${'a'.repeat(40)}`],
    ['a short secret', 'Bearer rf_live_abcdefghijkl_short'],
    ['an empty bearer', 'Bearer '],
    ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
  ])('401 for a malformed key (%s)', async (_name, authorization) => {
    await rejectsTraceWrite(401, 'unauthorized', (payload) => t.call(undefined, { method: 'POST', url: '/v1/traces', payload, headers: { authorization } }));
  });

  it('401 for a well-formed key that does not exist', async () => {
    await rejectsTraceWrite(401, 'unauthorized', (payload) =>
      t.call(`rf_live_Zz9Zz9Zz9Zz9_${'Q'.repeat(40)}`, { method: 'POST', url: '/v1/traces', payload }),
    );
  });

  it('401 for the right key id with a wrong secret, or the wrong environment', async () => {
    const [prefix, secret] = [master.slice(0, master.lastIndexOf('_')), master.slice(master.lastIndexOf('_') + 1)];
    const wrongSecret = `${prefix}_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    await rejectsTraceWrite(401, 'unauthorized', (payload) => t.call(wrongSecret, { method: 'POST', url: '/v1/traces', payload }));
    const wrongEnv = master.replace(/^rf_live_/, 'rf_test_');
    await rejectsTraceWrite(401, 'unauthorized', (payload) => t.call(wrongEnv, { method: 'POST', url: '/v1/traces', payload }));
  });

  it('accepts X-API-Key as an alternative to Bearer', async () => {
    const ok = await t.call(undefined, { method: 'GET', url: '/v1/traces', headers: { 'x-api-key': master } });
    expect(ok.statusCode).toBe(200);
    const created = await t.call(undefined, { method: 'POST', url: '/v1/traces', payload: trace, headers: { 'x-api-key': master } });
    expect(created.statusCode).toBe(202);
    await rejectsTraceWrite(401, 'unauthorized', (payload) =>
      t.call(undefined, { method: 'POST', url: '/v1/traces', payload, headers: { 'x-api-key': `${master}x` } }),
    );
  });
});

describe('revocation', () => {
  it.each([
    ['DELETE /v1/api-keys/{id}', 'DELETE' as const, ''],
    ['POST /v1/api-keys/{id}/revoke', 'POST' as const, '/revoke'],
  ])('a key revoked with %s fails with 401 from the very next request', async (_name, method, suffix) => {
    const key = await projectKey(['traces:read', 'traces:write']);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
    const revoked = await t.call(master, { method, url: `/v1/api-keys/${key.id}${suffix}` });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).toEqual(expect.any(String));
    const next = await rejectsTraceWrite(401, 'unauthorized', (payload) => t.call(key.api_key, { method: 'POST', url: '/v1/traces', payload }));
    expect(next.json().detail).toMatch(/revoked/i);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(401);
  });
});

describe('scopes and projects', () => {
  it('403 for a key without the scope, and writes nothing', async () => {
    const reader = await projectKey(['memories:read']);
    await rejectsTraceWrite(403, 'forbidden', (payload) => t.call(reader.api_key, { method: 'POST', url: '/v1/traces', payload }));
    expect((await t.call(reader.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(403);
    expect((await t.call(reader.api_key, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(403);
    expect((await t.call(reader.api_key, { method: 'GET', url: '/v1/memories' })).statusCode).toBe(200);
  });

  it('403 for a project key naming another project in X-Project-Id; its own project is fine', async () => {
    const key = await projectKey(['traces:read', 'traces:write'], 'alpha');
    await rejectsTraceWrite(403, 'forbidden', (payload) => t.call(key.api_key, { method: 'POST', url: '/v1/traces', project: 'beta', payload }));
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces', project: 'beta' })).statusCode).toBe(403);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces', project: 'alpha' })).statusCode).toBe(200);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
    expect(await projectSlugs('auth-user')).not.toContain('beta');
  });

  it("never shows one user's project to another user with the same slug", async () => {
    const a = await t.masterKey('user-a', 'shared');
    const b = await t.masterKey('user-b', 'shared');
    const created = await t.call(a, { method: 'POST', url: '/v1/traces', project: 'shared', payload: trace });
    expect(created.statusCode).toBe(202);
    const id = created.json().id as string;
    expect((await t.call(a, { method: 'GET', url: `/v1/traces/${id}`, project: 'shared' })).statusCode).toBe(200);

    const list = await t.call(b, { method: 'GET', url: '/v1/traces', project: 'shared' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([]);
    expect(list.headers['x-total-count']).toBe('0');
    const get = await t.call(b, { method: 'GET', url: `/v1/traces/${id}`, project: 'shared' });
    expect(get.statusCode).toBe(404);
    expect(get.json()).toEqual({ detail: expect.any(String), code: 'not_found' });

    const bProjectKey = await projectKey(['traces:read'], 'shared', b);
    expect((await t.call(bProjectKey.api_key, { method: 'GET', url: `/v1/traces/${id}` })).statusCode).toBe(404);
    expect((await t.call(bProjectKey.api_key, { method: 'GET', url: '/v1/traces' })).json()).toEqual([]);
  });

  it('a master key auto-creates the project named in X-Project-Id', async () => {
    const key = await t.masterKey('creator', 'default');
    expect(await projectSlugs('creator')).toEqual(['default']);
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', project: 'brand-new', payload: trace });
    expect(res.statusCode).toBe(202);
    expect(await projectSlugs('creator')).toEqual(['brand-new', 'default']);
    const inNew = await t.call(key, { method: 'GET', url: '/v1/traces', project: 'brand-new' });
    expect(inNew.json().map((tr: { id: string }) => tr.id)).toEqual([res.json().id]);
    expect((await t.call(key, { method: 'GET', url: '/v1/traces' })).json()).toEqual([]);
  });

  it('does not create the project when the request is rejected with 422', async () => {
    const key = await t.masterKey('careful', 'default');
    const before = await counts();
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', project: 'never-made', payload: { task: '' } });
    expect(res.statusCode).toBe(422);
    expect(await counts()).toEqual(before);
    expect(await projectSlugs('careful')).toEqual(['default']);
  });

  it('a master key without the header works on the project "default"', async () => {
    const key = await t.masterKey('defaulter', 'elsewhere');
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: trace });
    expect(res.statusCode).toBe(202);
    const inDefault = await t.call(key, { method: 'GET', url: '/v1/traces', project: 'default' });
    expect(inDefault.json().map((tr: { id: string }) => tr.id)).toEqual([res.json().id]);
    expect((await t.call(key, { method: 'GET', url: '/v1/traces', project: 'elsewhere' })).json()).toEqual([]);
    const created = await t.call(key, { method: 'POST', url: '/v1/api-keys', payload: { label: 'x', scopes: ['traces:read'] } });
    expect(created.json().project_id).toBe('default');
  });

  it.each([['../etc'], ['has space'], ['-leading-dash'], ['x'.repeat(101)], ['a/b']])(
    '422 for an invalid X-Project-Id (%s), writing nothing',
    async (project) => {
      const before = await counts();
      const res = await t.call(master, { method: 'POST', url: '/v1/traces', payload: trace, headers: { 'x-project-id': project } });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual({ detail: [{ loc: ['header', 'x-project-id'], msg: expect.any(String), type: expect.any(String) }], code: 'validation_error' });
      expect(await counts()).toEqual(before);
    },
  );
});
