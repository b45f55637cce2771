import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const KEY_FORMAT = /^rf_live_[A-Za-z0-9]+_[A-Za-z0-9]{32,}$/;

interface KeyInfo {
  id: string;
  label: string;
  key_prefix: string;
  scopes: string[];
  is_master: boolean;
  user_id: string;
  project_id: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
type Created = KeyInfo & { api_key: string };

async function create(key: string, body: object, project?: string): Promise<Created> {
  const res = await t.call(key, { method: 'POST', url: '/v1/api-keys', project, payload: body });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function list(key: string, project?: string): Promise<KeyInfo[]> {
  const res = await t.call(key, { method: 'GET', url: '/v1/api-keys', project });
  expect(res.statusCode).toBe(200);
  return res.json();
}

/** The row of a key, straight from the table, with every column rendered as text. */
async function storedRow(id: string): Promise<string> {
  const { rows } = await t.app.database.pool.query('select * from api_keys where id = $1', [id]);
  expect(rows).toHaveLength(1);
  return JSON.stringify(rows[0]);
}

describe('creating keys', () => {
  it('a project key cannot grant a scope it lacks, and no key row is written', async () => {
    const master = await t.masterKey('esc-user', 'esc');
    const manager = await create(master, { label: 'manager', scopes: ['keys:manage', 'memories:read'] }, 'esc');
    for (const scopes of [['traces:write'], ['memories:read', 'traces:write'], ['memories:write']]) {
      const before = await t.count('api_keys');
      const res = await t.call(manager.api_key, { method: 'POST', url: '/v1/api-keys', payload: { label: 'x', scopes } });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ detail: expect.stringContaining(scopes.at(-1)!), code: 'forbidden' });
      expect(await t.count('api_keys')).toBe(before);
    }
  });

  it('a project key can create a key with a subset of its scopes, and that key works', async () => {
    const master = await t.masterKey('sub-user', 'default');
    const manager = await create(master, { label: 'manager', scopes: ['keys:manage', 'memories:read', 'traces:read'] }, 'subproj');
    const before = await t.count('api_keys');
    const res = await t.call(manager.api_key, { method: 'POST', url: '/v1/api-keys', payload: { label: 'reader', scopes: ['memories:read'] } });
    expect(res.statusCode).toBe(201);
    expect(await t.count('api_keys')).toBe(before + 1);
    const key: Created = res.json();
    expect(key.api_key).toMatch(KEY_FORMAT);
    expect(key.api_key.startsWith(`${key.key_prefix}_`)).toBe(true);
    expect(key.key_prefix).toMatch(/^rf_live_[A-Za-z0-9]+$/);
    expect(key).toMatchObject({ label: 'reader', scopes: ['memories:read'], is_master: false, user_id: 'sub-user', project_id: 'subproj', environment: 'live', revoked_at: null });

    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/memories' })).statusCode).toBe(200);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(403);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/memories', project: 'default' })).statusCode).toBe(403);
  });

  it('a test-environment key is rf_test_… and works', async () => {
    const master = await t.masterKey('env-user');
    const key = await create(master, { label: 'ci', scopes: ['traces:read'], environment: 'test' });
    expect(key.api_key).toMatch(/^rf_test_[A-Za-z0-9]+_[A-Za-z0-9]{32,}$/);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
  });

  it.each([
    [{ label: 'x', scopes: [] }, 'scopes'],
    [{ label: 'x', scopes: ['admin'] }, 'scopes'],
    [{ label: '', scopes: ['traces:read'] }, 'label'],
    [{ label: 'x', scopes: ['traces:read'], environment: 'prod' }, 'environment'],
  ])('422 for an invalid key request %j', async (payload, field) => {
    const master = await t.masterKey('invalid-user');
    const before = await t.count('api_keys');
    const res = await t.call(master, { method: 'POST', url: '/v1/api-keys', payload });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail[0].loc.slice(0, 2)).toEqual(['body', field]);
    expect(await t.count('api_keys')).toBe(before);
  });

  it('stores no plaintext secret', async () => {
    const master = await t.masterKey('secret-user');
    const key = await create(master, { label: 'x', scopes: ['traces:read'] });
    const secret = key.api_key.slice(key.key_prefix.length + 1);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const row = await storedRow(key.id);
    expect(row).toContain(key.key_prefix.split('_')[2]);
    expect(row).not.toContain(secret);
    expect(row).not.toContain(secret.slice(0, 16));
    expect(row).not.toContain(secret.slice(-16));
  });
});

describe('listing keys', () => {
  it('a project key sees its project only; a master sees its project and its own master keys; nobody sees another user', async () => {
    const mA = await t.masterKey('list-a', 'home');
    const mA2 = await t.masterKey('list-a', 'other');
    const mB = await t.masterKey('list-b', 'b-home');
    const a1 = await create(mA, { label: 'a1', scopes: ['keys:manage', 'traces:read'] }, 'team');
    const a2 = await create(mA, { label: 'a2', scopes: ['traces:read'] }, 'team');
    const aOther = await create(mA, { label: 'a-other', scopes: ['traces:read'] }, 'other');
    const b1 = await create(mB, { label: 'b1', scopes: ['keys:manage'] }, 'team');

    const byProjectKey = await list(a1.api_key);
    expect(byProjectKey.map((k) => k.id).sort()).toEqual([a1.id, a2.id].sort());
    expect(byProjectKey.every((k) => k.project_id === 'team' && k.user_id === 'list-a')).toBe(true);
    expect(JSON.stringify(byProjectKey)).not.toContain('api_key');

    const byMaster = await list(mA, 'team');
    const masterIds = (await list(mA, 'home')).filter((k) => k.is_master).map((k) => k.id);
    expect(masterIds).toHaveLength(2);
    expect(byMaster.map((k) => k.id).sort()).toEqual([a1.id, a2.id, ...masterIds].sort());
    expect(byMaster.map((k) => k.id)).not.toContain(aOther.id);
    expect(byMaster.every((k) => k.user_id === 'list-a')).toBe(true);
    expect((await list(mA2, 'other')).map((k) => k.id).sort()).toEqual([aOther.id, ...masterIds].sort());

    const byB = await list(b1.api_key);
    expect(byB.map((k) => k.id).sort()).toEqual([b1.id]);
    expect((await list(mB, 'team')).every((k) => k.user_id === 'list-b')).toBe(true);
  });
});

describe('revoking keys', () => {
  it('returns the key with revoked_at, keeps the first revocation time, and 404s for keys it cannot see', async () => {
    const mA = await t.masterKey('rev-a', 'p');
    const mB = await t.masterKey('rev-b', 'p');
    const key = await create(mA, { label: 'x', scopes: ['traces:read'] }, 'p');
    const foreignProject = await create(mA, { label: 'y', scopes: ['traces:read'] }, 'q');

    expect((await t.call(mB, { method: 'DELETE', url: `/v1/api-keys/${key.id}`, project: 'p' })).statusCode).toBe(404);
    expect((await t.call(key.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
    const manager = await create(mA, { label: 'm', scopes: ['keys:manage'] }, 'p');
    const hidden = await t.call(manager.api_key, { method: 'DELETE', url: `/v1/api-keys/${foreignProject.id}` });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual({ detail: expect.any(String), code: 'not_found' });
    expect((await t.call(mA, { method: 'DELETE', url: '/v1/api-keys/00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    expect((await t.call(mA, { method: 'DELETE', url: '/v1/api-keys/not-a-uuid' })).statusCode).toBe(422);

    const first = await t.call(manager.api_key, { method: 'DELETE', url: `/v1/api-keys/${key.id}` });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id: key.id, revoked_at: expect.any(String), is_master: false });
    const again = await t.call(mA, { method: 'POST', url: `/v1/api-keys/${key.id}/revoke`, project: 'p' });
    expect(again.json().revoked_at).toBe(first.json().revoked_at);
    expect((await t.call(foreignProject.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
  });

  it('a project key cannot revoke a master key bound to its project', async () => {
    const master = await t.masterKey('rev-master', 'p');
    const masterId = (await list(master, 'p')).find((k) => k.is_master)!.id;
    const manager = await create(master, { label: 'm', scopes: ['keys:manage'] }, 'p');
    const res = await t.call(manager.api_key, { method: 'DELETE', url: `/v1/api-keys/${masterId}` });
    expect(res.statusCode).toBe(403);
    expect((await t.call(master, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
  });
});

describe('last_used_at', () => {
  it('is null before use, set by a successful request, and not set by a failed one', async () => {
    const master = await t.masterKey('usage-user');
    const used = await create(master, { label: 'used', scopes: ['traces:read'] });
    const failing = await create(master, { label: 'failing', scopes: ['traces:read'] });
    const lastUsed = async (id: string) => (await list(master)).find((k) => k.id === id)!.last_used_at;
    expect(await lastUsed(used.id)).toBeNull();

    expect((await t.call(failing.api_key, { method: 'GET', url: '/v1/traces/00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    expect((await t.call(failing.api_key, { method: 'POST', url: '/v1/traces', payload: { task: 'x', trajectory: 'y' } })).statusCode).toBe(403);
    expect((await t.call(failing.api_key, { method: 'GET', url: '/v1/traces?limit=0' })).statusCode).toBe(422);

    expect((await t.call(used.api_key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
    const stamp = await eventually(() => lastUsed(used.id));
    expect(Date.parse(stamp)).toBeGreaterThan(Date.now() - 60_000);
    // The failing key's requests finished before the successful one started.
    expect(await lastUsed(failing.id)).toBeNull();
  });
});
