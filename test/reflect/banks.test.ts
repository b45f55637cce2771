import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIEmbedder } from '../../src/embeddings/openaiEmbedder.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

// No OPENAI_API_KEY here: mental models and directives are plain CRUD; reflect and refresh say 400.
// Embeddings still come from the fake, handed to the app directly.
let fake: FakeOpenAI;
let t: TestApp;
let master: string;
const BANK = '/v1/default/banks/crud';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  const embedder = await createOpenAIEmbedder({ client: new OpenAI({ apiKey: 'embeddings-only', baseURL: fake.baseURL, maxRetries: 0 }), model: 'text-embedding-3-small' });
  t = await buildTestApp({}, { embedder });
  master = await t.masterKey();
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('without an LLM', () => {
  it('reflect and refresh answer 400 llm_not_configured', async () => {
    const bank = '/v1/default/banks/no-llm';
    const res = await t.call(master, { method: 'POST', url: `${bank}/reflect`, payload: { query: 'q' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'llm_not_configured', detail: expect.stringContaining('OPENAI_API_KEY') });

    const created = await t.call(master, { method: 'POST', url: `${bank}/mental-models`, payload: { name: 'n', source_query: 'q?' } });
    const refresh = await t.call(master, { method: 'POST', url: `${bank}/mental-models/${created.json().id}/refresh` });
    expect(refresh.statusCode).toBe(400);
  });
});

describe('mental models', () => {
  it('create, get, list (tag filter), patch, delete, in Hindsight shapes', async () => {
    const created = await t.call(master, {
      method: 'POST',
      url: `${BANK}/mental-models`,
      payload: { id: 'team-prefs', name: 'Team preferences', source_query: 'What does the team prefer?', tags: ['team', 'team'], max_tokens: 500 },
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({
      id: 'team-prefs',
      mental_model_id: 'team-prefs',
      bank_id: 'crud',
      name: 'Team preferences',
      content: '',
      tags: ['team'],
      max_tokens: 500,
      last_refreshed_at: null,
    });
    const duplicate = await t.call(master, { method: 'POST', url: `${BANK}/mental-models`, payload: { id: 'team-prefs', name: 'x', source_query: 'y' } });
    expect(duplicate.statusCode).toBe(409);

    const random = (await t.call(master, { method: 'POST', url: `${BANK}/mental-models`, payload: { name: 'Other', source_query: 'q?', content: 'c' } })).json();
    expect(random.id).toMatch(/^[0-9a-f-]{36}$/);

    // The same tag semantics as reflect: `any`/`all` let untagged ones through, `exact` does not.
    const teamOnly = await t.call(master, { method: 'GET', url: `${BANK}/mental-models?tags=team&tags_match=exact` });
    expect(teamOnly.json().items.map((m: { id: string }) => m.id)).toEqual(['team-prefs']);
    const teamOrGlobal = await t.call(master, { method: 'GET', url: `${BANK}/mental-models?tags=team&tags_match=all` });
    expect(teamOrGlobal.json().items.map((m: { id: string }) => m.id)).toEqual(['team-prefs', random.id]);
    const all = await t.call(master, { method: 'GET', url: `${BANK}/mental-models` });
    expect(all.json().items.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['team-prefs', random.id]));

    const patched = await t.call(master, { method: 'PATCH', url: `${BANK}/mental-models/team-prefs`, payload: { content: 'Small PRs.', tags: ['team', 'eng'] } });
    expect(patched.json()).toMatchObject({ content: 'Small PRs.', tags: ['team', 'eng'], name: 'Team preferences' });
    expect((await t.call(master, { method: 'GET', url: `${BANK}/mental-models/team-prefs` })).json().content).toBe('Small PRs.');

    expect((await t.call(master, { method: 'DELETE', url: `${BANK}/mental-models/team-prefs` })).json()).toEqual({ success: true, id: 'team-prefs' });
    expect((await t.call(master, { method: 'GET', url: `${BANK}/mental-models/team-prefs` })).statusCode).toBe(404);
    expect((await t.call(master, { method: 'PATCH', url: `${BANK}/mental-models/team-prefs`, payload: { name: 'x' } })).statusCode).toBe(404);
  });

  it('422 on bad bodies; ids of other banks are 404', async () => {
    for (const payload of [{ name: 'x' }, { name: ' ', source_query: 'q' }, { id: 'has space', name: 'x', source_query: 'q' }]) {
      expect((await t.call(master, { method: 'POST', url: `${BANK}/mental-models`, payload })).statusCode).toBe(422);
    }
    const other = (await t.call(master, { method: 'POST', url: '/v1/default/banks/other/mental-models', payload: { name: 'x', source_query: 'q' } })).json();
    expect((await t.call(master, { method: 'GET', url: `${BANK}/mental-models/${other.id}` })).statusCode).toBe(404);
  });
});

describe('directives', () => {
  it('create, list (priority order, active_only, tags), get, patch, delete', async () => {
    const create = async (payload: Record<string, unknown>) => {
      const res = await t.call(master, { method: 'POST', url: `${BANK}/directives`, payload });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const low = await create({ name: 'Low', content: 'Be brief.' });
    const high = await create({ name: 'High', content: 'Cite sources.', priority: 9, tags: ['docs'] });
    const off = await create({ name: 'Off', content: 'Unused.', is_active: false });
    expect(low).toMatchObject({ bank_id: 'crud', priority: 0, is_active: true, tags: [] });

    const list = async (query = '') => (await t.call(master, { method: 'GET', url: `${BANK}/directives${query}` })).json().items.map((d: { id: string }) => d.id);
    expect(await list()).toEqual([high.id, low.id, off.id]);
    expect(await list('?active_only=true')).toEqual([high.id, low.id]);
    expect(await list('?tags=docs&tags_match=any_strict')).toEqual([high.id]);
    expect(await list('?tags=docs')).toEqual([high.id, low.id, off.id]);

    const patched = await t.call(master, { method: 'PATCH', url: `${BANK}/directives/${off.id}`, payload: { is_active: true, priority: 20 } });
    expect(patched.json()).toMatchObject({ is_active: true, priority: 20, name: 'Off' });
    expect(await list('?active_only=true')).toEqual([off.id, high.id, low.id]);

    expect((await t.call(master, { method: 'GET', url: `${BANK}/directives/${high.id}` })).json().content).toBe('Cite sources.');
    expect((await t.call(master, { method: 'DELETE', url: `${BANK}/directives/${high.id}` })).statusCode).toBe(200);
    expect((await t.call(master, { method: 'GET', url: `${BANK}/directives/${high.id}` })).statusCode).toBe(404);
    expect((await t.call(master, { method: 'GET', url: `${BANK}/directives/not-a-uuid` })).statusCode).toBe(422);
    expect((await t.call(master, { method: 'POST', url: `${BANK}/directives`, payload: { name: 'x' } })).statusCode).toBe(422);
  });
});

describe('bank access', () => {
  it('a project key reads its own bank, writes only with memories:write, never another bank', async () => {
    const keyFor = async (scopes: string[]) =>
      (await t.call(master, { method: 'POST', url: '/v1/api-keys', project: 'crud', payload: { label: 'k', scopes } })).json().api_key as string;
    const reader = await keyFor(['memories:read']);
    expect((await t.call(reader, { method: 'GET', url: `${BANK}/directives` })).statusCode).toBe(200);
    expect((await t.call(reader, { method: 'POST', url: `${BANK}/directives`, payload: { name: 'n', content: 'c' } })).statusCode).toBe(403);
    expect((await t.call(reader, { method: 'GET', url: '/v1/default/banks/other/directives' })).statusCode).toBe(403);
    // X-Project-Id does not override the bank in the path.
    expect((await t.call(reader, { method: 'GET', url: '/v1/default/banks/other/directives', project: 'crud' })).statusCode).toBe(403);
    expect((await t.call(undefined, { method: 'GET', url: `${BANK}/directives` })).statusCode).toBe(401);
    expect((await t.call(master, { method: 'GET', url: '/v1/acme/banks/crud/directives' })).statusCode).toBe(404);
    expect((await t.call(master, { method: 'GET', url: '/v1/default/banks/crud/directives' })).statusCode).toBe(200);
  });
});

describe('memories gain fact_type', () => {
  it('POST /v1/memories: experience by default, world on request, observation refused; PATCH changes it', async () => {
    const post = (payload: Record<string, unknown>) => t.call(master, { method: 'POST', url: '/v1/memories', payload: { task: 't', reflection: 'r', ...payload } });
    const lesson = await post({});
    expect(lesson.json().fact_type).toBe('experience');
    const fact = await post({ fact_type: 'world', tags: ['geo'] });
    expect(fact.json()).toMatchObject({ fact_type: 'world', tags: ['geo'] });
    expect((await post({ fact_type: 'observation' })).statusCode).toBe(422);
    const patched = await t.call(master, { method: 'PATCH', url: `/v1/memories/${lesson.json().id}`, payload: { fact_type: 'world' } });
    expect(patched.json().fact_type).toBe('world');
  });
});
