import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

const TOKEN = 'bootstrap-admin-token-for-tests';
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ REFLECT_BOOTSTRAP_TOKEN: TOKEN });
});
afterAll(() => t.close());

async function counts(app: TestApp = t) {
  return { users: await app.count('users'), projects: await app.count('projects'), api_keys: await app.count('api_keys') };
}

function bootstrap(app: TestApp, payload: object, bearer?: string) {
  return app.call(bearer, { method: 'POST', url: '/v1/bootstrap', payload });
}

describe('POST /v1/bootstrap', () => {
  it.each([
    ['as a Bearer token', (body: object) => bootstrap(t, body, TOKEN)],
    ['in the body', (body: object) => bootstrap(t, { ...body, bootstrap_token: TOKEN })],
  ])('creates a working master key with the token %s', async (how, send) => {
    const user = `boot-${how.includes('Bearer') ? 'bearer' : 'body'}`;
    const before = await counts();
    const res = await send({ user_id: user, project_id: 'first-project' });
    expect(res.statusCode).toBe(201);
    const key = res.json();
    expect(key).toMatchObject({
      is_master: true,
      user_id: user,
      project_id: 'first-project',
      label: 'Default Admin Key',
      environment: 'live',
      scopes: ['memories:read', 'memories:write', 'traces:read', 'traces:write', 'keys:manage'],
      last_used_at: null,
      revoked_at: null,
    });
    expect(key.api_key).toMatch(/^rf_live_[A-Za-z0-9]+_[A-Za-z0-9]{32,}$/);
    expect(key.api_key.startsWith(`${key.key_prefix}_`)).toBe(true);
    expect(await counts()).toEqual({ users: before.users + 1, projects: before.projects + 1, api_keys: before.api_keys + 1 });

    const created = await t.call(key.api_key, {
      method: 'POST',
      url: '/v1/traces',
      project: 'first-project',
      payload: { task: 'x', trajectory: 'y' },
    });
    expect(created.statusCode).toBe(202);
    const listed = await t.call(key.api_key, { method: 'GET', url: '/v1/api-keys', project: 'first-project' });
    expect(listed.json().map((k: { id: string }) => k.id)).toContain(key.id);
  });

  it('honours key_label and environment', async () => {
    const res = await bootstrap(t, { user_id: 'labelled', project_id: 'p', key_label: 'Ops', environment: 'test' }, TOKEN);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ label: 'Ops', environment: 'test' });
    expect(res.json().api_key).toMatch(/^rf_test_/);
  });

  it.each([
    ['a wrong Bearer token', { user_id: 'u', project_id: 'p' }, 'not-the-token'],
    ['a wrong body token', { user_id: 'u', project_id: 'p', bootstrap_token: 'nope' }, undefined],
    ['no token', { user_id: 'u', project_id: 'p' }, undefined],
    ['no token and an invalid body', { user_id: '' }, undefined],
    ['an API key instead of the token', { user_id: 'u', project_id: 'p' }, 'rf_live_abcdefghijkl_' + 'a'.repeat(40)],
  ])('401 with %s, and nothing written', async (_name, body, bearer) => {
    const before = await counts();
    const res = await bootstrap(t, body, bearer);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ detail: expect.any(String), code: 'unauthorized' });
    expect(await counts()).toEqual(before);
  });

  it.each([
    [{ user_id: 'has space', project_id: 'p' }, 'user_id'],
    [{ user_id: 'u', project_id: 'a@b' }, 'project_id'],
    [{ user_id: 'u' }, 'project_id'],
    [{ user_id: 'u', project_id: 'p', environment: 'prod' }, 'environment'],
  ])('422 for an invalid body with the right token %j', async (body, field) => {
    const before = await counts();
    const res = await bootstrap(t, body, TOKEN);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail.map((d: { loc: unknown[] }) => d.loc)).toContainEqual(['body', field]);
    expect(await counts()).toEqual(before);
  });

  it('adds a master key to an existing user without creating another user', async () => {
    expect((await bootstrap(t, { user_id: 'repeat', project_id: 'p1' }, TOKEN)).statusCode).toBe(201);
    const before = await counts();
    expect((await bootstrap(t, { user_id: 'repeat', project_id: 'p1' }, TOKEN)).statusCode).toBe(201);
    expect(await counts()).toEqual({ ...before, api_keys: before.api_keys + 1 });
  });
});

describe('POST /v1/bootstrap without REFLECT_BOOTSTRAP_TOKEN', () => {
  let off: TestApp;
  beforeAll(async () => {
    off = await buildTestApp({ REFLECT_BOOTSTRAP_TOKEN: '' });
  });
  afterAll(() => off.close());

  it.each([
    ['no token', undefined, {}],
    ['some token', 'anything', {}],
    ['a body token', undefined, { bootstrap_token: 'anything' }],
  ])('403 with %s, and nothing written', async (_name, bearer, extra) => {
    expect(off.config.bootstrapToken).toBeUndefined();
    const before = await counts(off);
    const res = await bootstrap(off, { user_id: 'u', project_id: 'p', ...extra }, bearer);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ detail: expect.stringContaining('REFLECT_BOOTSTRAP_TOKEN'), code: 'forbidden' });
    expect(await counts(off)).toEqual(before);
  });
});
