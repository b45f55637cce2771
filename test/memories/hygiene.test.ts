import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

// Invalidate, restore and expire: what is retrieved (query, augment, MCP, reflect's search),
// what stays listed, and the history that records each change with who made it.
const VECTORS: Record<string, number[]> = {
  'rotate the api keys': [1, 0, 0],
  // Near the first: a retrieval gate on similarity would keep it.
  'renew the tls certificate': [0.8, 0.6, 0],
  'clean the build cache': [0, 0, 1],
};

let fake: FakeOpenAI;
let t: TestApp;
let key: string;
let keyId: string;
let baseUrl: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({ vectors: VECTORS, embeddingDimensions: 3 });
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' });
  const created = await t.app.auth.createMasterKey({ userId: 'user-1', projectId: 'default', label: 'ops-console', environment: 'live' });
  key = created.api_key;
  keyId = created.id;
  baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

async function create(task: string, extra: Record<string, unknown> = {}, project?: string) {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', payload: { task, reflection: `about ${task}`, ...extra }, project });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function retrievedIds(task: string, project?: string): Promise<string[]> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories/query', payload: { task, limit: 10, lambda_: 0 }, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().map((m: { id: string }) => m.id);
}

async function augmentedIds(task: string, project?: string): Promise<string[]> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories/augment', payload: { task, limit: 10 }, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().memories.map((m: { id: string }) => m.id);
}

async function mcpIds(task: string, project: string): Promise<string[]> {
  const client = new Client({ name: 'hygiene-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), {
    requestInit: { headers: { authorization: `Bearer ${key}`, 'x-project-id': project } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'retrieve_memories', arguments: { query: task, limit: 10 } });
    const text = (result.content as { type: string; text: string }[])[0]!.text;
    return (JSON.parse(text) as { id: string }[]).map((m) => m.id);
  } finally {
    await client.close();
  }
}

/** Ids reflect's memory search returns: the hybrid search the agent's search_memories tool runs. */
async function reflectSearchIds(task: string, projectSlug: string): Promise<string[]> {
  const { hybridMemorySearch } = await import('../../src/db/memorySearch.js');
  const { rows } = await t.app.database.pool.query('select id from projects where slug = $1', [projectSlug]);
  const [vector] = await t.app.embedder.embed([task]);
  const found = await hybridMemorySearch(t.app.database.db, {
    projectId: rows[0].id,
    model: t.app.embedder.model,
    dimensions: t.app.embedder.dimensions,
    vector: vector!,
    text: task,
    factTypes: null,
    limit: 10,
  });
  return found.map((m) => m.id);
}

async function history(id: string, project?: string) {
  const res = await t.call(key, { method: 'GET', url: `/v1/memories/${id}/history`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('invalidate and restore', () => {
  const project = 'hygiene-invalidate';

  it('an invalid memory is retrieved nowhere but stays listed with state, reason and who; a restore brings it back', async () => {
    const bad = await create('rotate the api keys', {}, project);
    const good = await create('renew the tls certificate', {}, project);
    expect(bad).toMatchObject({ state: 'active', invalid_reason: null, invalidated_by: null, expires_at: null, evidence_count: 1, source_trace_ids: [] });

    const invalidated = await t.call(key, {
      method: 'POST',
      url: `/v1/memories/${bad.id}/invalidate`,
      payload: { reason: 'The key rotation moved to the vault' },
      project,
    });
    expect(invalidated.statusCode, invalidated.body).toBe(200);
    expect(invalidated.json()).toMatchObject({
      id: bad.id,
      state: 'invalid',
      invalid_reason: 'The key rotation moved to the vault',
      invalidated_by: { key_id: keyId, label: 'ops-console' },
    });
    expect(Date.parse(invalidated.json().invalidated_at)).not.toBeNaN();

    expect(await retrievedIds('rotate the api keys', project)).toEqual([good.id]);
    expect(await augmentedIds('rotate the api keys', project)).toEqual([good.id]);
    expect(await mcpIds('rotate the api keys', project)).toEqual([good.id]);
    expect(await reflectSearchIds('rotate the api keys', project)).toEqual([good.id]);

    const listed = (await t.call(key, { method: 'GET', url: '/v1/memories', project })).json();
    expect(listed.find((m: { id: string }) => m.id === bad.id)).toMatchObject({ state: 'invalid', invalid_reason: 'The key rotation moved to the vault' });
    expect((await t.call(key, { method: 'GET', url: `/v1/memories/${bad.id}`, project })).json().state).toBe('invalid');

    const again = await t.call(key, { method: 'POST', url: `/v1/memories/${bad.id}/invalidate`, payload: { reason: 'twice' }, project });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict' });

    const restored = await t.call(key, { method: 'POST', url: `/v1/memories/${bad.id}/restore`, payload: { reason: 'Vault rollout reverted' }, project });
    expect(restored.statusCode, restored.body).toBe(200);
    expect(restored.json()).toMatchObject({ state: 'active', invalid_reason: null, invalidated_at: null, invalidated_by: null });
    expect(await retrievedIds('rotate the api keys', project)).toEqual([bad.id, good.id]);
    expect((await t.call(key, { method: 'POST', url: `/v1/memories/${bad.id}/restore`, payload: {}, project })).statusCode).toBe(409);

    const entries = await history(bad.id, project);
    expect(entries).toMatchObject([
      { kind: 'invalidate', memory_id: bad.id, trace_id: null, q_before: 0.5, q_after: 0.5, reward: null, alpha: null, actor: { type: 'api_key', key_id: keyId, label: 'ops-console' }, detail: { reason: 'The key rotation moved to the vault' } },
      { kind: 'restore', actor: { type: 'api_key', key_id: keyId }, detail: { reason: 'Vault rollout reverted', invalidated_for: 'The key rotation moved to the vault' } },
    ]);
  });

  it('rejects a blank reason, an unknown memory and another project’s memory, writing nothing', async () => {
    const m = await create('clean the build cache', {}, project);
    const events = await t.count('memory_events');
    const blank = await t.call(key, { method: 'POST', url: `/v1/memories/${m.id}/invalidate`, payload: { reason: '   ' }, project });
    expect(blank.statusCode).toBe(422);
    expect(blank.json().detail[0]).toMatchObject({ loc: ['body', 'reason'] });
    const missing = await t.call(key, { method: 'POST', url: `/v1/memories/${m.id}/invalidate`, payload: {}, project });
    expect(missing.statusCode).toBe(422);
    const unknown = await t.call(key, { method: 'POST', url: '/v1/memories/00000000-0000-4000-8000-000000000000/invalidate', payload: { reason: 'x' }, project });
    expect(unknown.statusCode).toBe(404);
    const elsewhere = await t.call(key, { method: 'POST', url: `/v1/memories/${m.id}/invalidate`, payload: { reason: 'x' }, project: 'other-project' });
    expect(elsewhere.statusCode).toBe(404);
    expect(await t.count('memory_events')).toBe(events);
    expect((await t.call(key, { method: 'GET', url: `/v1/memories/${m.id}`, project })).json().state).toBe('active');
  });

  it('a key without memories:write cannot invalidate', async () => {
    const m = await create('clean the build cache', {}, 'hygiene-scopes');
    const created = await t.call(key, {
      method: 'POST',
      url: '/v1/api-keys',
      payload: { label: 'reader', scopes: ['memories:read'] },
      project: 'hygiene-scopes',
    });
    expect(created.statusCode, created.body).toBe(201);
    const res = await t.call(created.json().api_key, { method: 'POST', url: `/v1/memories/${m.id}/invalidate`, payload: { reason: 'x' } });
    expect(res.statusCode).toBe(403);
  });
});

describe('expiry', () => {
  const project = 'hygiene-expiry';

  it('an expired memory is not retrieved; expires_at is set on create and changed or cleared by an edit', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const expired = await create('rotate the api keys', { expires_at: past }, project);
    const later = await create('renew the tls certificate', { expires_at: future }, project);
    expect(expired).toMatchObject({ state: 'expired', expires_at: past });
    expect(later).toMatchObject({ state: 'active', expires_at: future });

    expect(await retrievedIds('rotate the api keys', project)).toEqual([later.id]);
    expect(await reflectSearchIds('rotate the api keys', project)).toEqual([later.id]);

    const cleared = await t.call(key, { method: 'PATCH', url: `/v1/memories/${expired.id}`, payload: { expires_at: null }, project });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({ state: 'active', expires_at: null });
    expect(await retrievedIds('rotate the api keys', project)).toEqual([expired.id, later.id]);

    const expire = await t.call(key, { method: 'PATCH', url: `/v1/memories/${later.id}`, payload: { expires_at: past }, project });
    expect(expire.json().state).toBe('expired');
    expect(await retrievedIds('renew the tls certificate', project)).toEqual([expired.id]);

    const entries = await history(expired.id, project);
    expect(entries).toMatchObject([{ kind: 'edit', actor: { type: 'api_key', key_id: keyId, label: 'ops-console' }, detail: { fields: { expires_at: { from: past, to: null } } } }]);
  });

  it('rejects an expires_at without a time zone or that is not a date', async () => {
    for (const expires_at of ['2030-01-01T00:00:00', 'tomorrow', 12]) {
      const res = await t.call(key, { method: 'POST', url: '/v1/memories', payload: { task: 'x', reflection: 'y', expires_at }, project });
      expect(res.statusCode, String(expires_at)).toBe(422);
      expect(res.json().detail[0].loc).toEqual(['body', 'expires_at']);
    }
  });
});

describe('history', () => {
  it('records edits with the fields before and after, interleaved with Q-updates, oldest first', async () => {
    const project = 'hygiene-history';
    const m = await create('rotate the api keys', { tags: ['ops'] }, project);
    const edit = await t.call(key, { method: 'PATCH', url: `/v1/memories/${m.id}`, payload: { reflection: 'Use the vault CLI', tags: ['ops'] }, project });
    expect(edit.statusCode, edit.body).toBe(200);

    // A reviewed run that retrieved the memory moves its Q (through the real learning loop).
    const trace = await t.call(key, {
      method: 'POST',
      url: '/v1/traces',
      payload: { task: 'renew the tls certificate', trajectory: [], final_response: 'done', retrieved_memory_ids: [m.id], review_result: 'pass' },
      project,
    });
    expect(trace.statusCode, trace.body).toBe(202);
    const { eventually } = await import('../support/app.js');
    await eventually(async () => ((await history(m.id, project)).length === 2 ? true : undefined));
    await t.call(key, { method: 'POST', url: `/v1/memories/${m.id}/invalidate`, payload: { reason: 'stale' }, project });

    const entries = await history(m.id, project);
    expect(entries.map((e: { kind: string }) => e.kind)).toEqual(['edit', 'q_update', 'invalidate']);
    expect(entries[0].detail).toEqual({ fields: { reflection: { from: 'about rotate the api keys', to: 'Use the vault CLI' } } });
    expect(entries[1]).toMatchObject({ trace_id: trace.json().id, q_before: 0.5, reward: 1, actor: { type: 'learning_loop', key_id: null, label: null } });
    expect(entries[2].q_before).toBe(entries[1].q_after);
    const times = entries.map((e: { created_at: string }) => Date.parse(e.created_at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});
