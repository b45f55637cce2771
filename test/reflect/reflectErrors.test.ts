import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { chatRequests, doneCitingFound, searchMemories } from './support.js';

const LLM_KEY = 'sk-test-secret-1234567890';
let fake: FakeOpenAI;
let t: TestApp;
let master: string;

const reflect = (key: string | undefined, bank: string, payload: unknown, tenant = 'default') =>
  t.call(key, { method: 'POST', url: `/v1/${tenant}/banks/${bank}/reflect`, payload: payload as object });

async function projectKey(project: string, scopes: string[]): Promise<string> {
  const res = await t.call(master, { method: 'POST', url: '/v1/api-keys', project, payload: { label: 'p', scopes } });
  expect(res.statusCode).toBe(201);
  return res.json().api_key;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({
    OPENAI_API_KEY: LLM_KEY,
    OPENAI_BASE_URL: fake.baseURL,
    REFLECT_EMBEDDING_PROVIDER: 'openai',
    REFLECT_LLM_TIMEOUT_MS: '1000',
    REFLECT_REFLECT_TIMEOUT_MS: '1500',
  });
  master = await t.masterKey();
  await t.call(master, { method: 'POST', url: '/v1/memories', project: 'alpha', payload: { task: 'a task', reflection: 'a lesson' } });
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('who may reflect on which bank', () => {
  it('401 without a key or with a bad one', async () => {
    for (const key of [undefined, 'rf_live_nope_nope']) {
      const res = await reflect(key, 'alpha', { query: 'q' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthorized', detail: expect.any(String) });
    }
  });

  it('a project key reaches its own bank only (403 otherwise), and needs memories:read', async () => {
    const own = await projectKey('alpha', ['memories:read']);
    fake.enqueue(searchMemories(), doneCitingFound('ok'));
    expect((await reflect(own, 'alpha', { query: 'q' })).statusCode).toBe(200);
    const foreign = await reflect(own, 'beta', { query: 'q' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('forbidden');

    const writer = await projectKey('alpha', ['traces:write']);
    expect((await reflect(writer, 'alpha', { query: 'q' })).statusCode).toBe(403);
  });

  it('a master key creates the bank on first use, as X-Project-Id does', async () => {
    fake.enqueue(searchMemories(), doneCitingFound('nothing stored yet'));
    const res = await reflect(master, 'brand-new', { query: 'q' });
    expect(res.statusCode).toBe(200);
    const listed = await t.call(master, { method: 'GET', url: '/v1/memories', project: 'brand-new' });
    expect(listed.headers['x-total-count']).toBe('0');
  });

  it('404 for any tenant but default, creating nothing', async () => {
    const projects = await t.count('projects');
    const res = await reflect(master, 'gamma', { query: 'q' }, 'acme');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Tenant "acme" not found', code: 'not_found' });
    expect(await t.count('projects')).toBe(projects);
  });
});

describe('422 before any LLM call, and nothing created', () => {
  it.each([
    ['no query', {}],
    ['blank query', { query: '  ' }],
    ['unknown budget', { query: 'q', budget: 'max' }],
    ['max_tokens 0', { query: 'q', max_tokens: 0 }],
    ['response_schema without properties', { query: 'q', response_schema: { type: 'object' } }],
    ['response_schema of an array', { query: 'q', response_schema: { type: 'array', properties: { a: { type: 'string' } } } }],
    ['response_schema with a bad property', { query: 'q', response_schema: { properties: { a: 5 } } }],
    ['response_schema with an unknown type', { query: 'q', response_schema: { properties: { a: { type: 'nonsense' } } } }],
    ['tags together with tag_groups', { query: 'q', tags: ['a'], tag_groups: [{ tags: ['b'] }] }],
    ['empty fact_types', { query: 'q', fact_types: [] }],
    ['unknown fact type', { query: 'q', fact_types: ['opinion'] }],
    ['unknown tags_match', { query: 'q', tags: ['a'], tags_match: 'some' }],
    ['malformed tag group', { query: 'q', tag_groups: [{ nand: [] }] }],
  ])('%s', async (_name, payload) => {
    const [projects, llmCalls] = [await t.count('projects'), chatRequests(fake).length];
    const res = await reflect(master, 'never-made', payload);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().code).toBe('validation_error');
    expect(res.json().detail[0]).toMatchObject({ loc: expect.arrayContaining(['body']), msg: expect.any(String) });
    expect(chatRequests(fake).length).toBe(llmCalls);
    expect(await t.count('projects')).toBe(projects);
  });

  it('a bank_id that is not a project slug', async () => {
    const res = await reflect(master, '-bad', { query: 'q' });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail[0].loc).toEqual(['path', 'bank_id']);
  });
});

describe('LLM failures', () => {
  it("429 with the provider's wait when the LLM rate limits", async () => {
    fake.enqueue({ status: 429, headers: { 'retry-after': '7' } });
    const res = await reflect(master, 'alpha', { query: 'q' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json().code).toBe('llm_rate_limited');
  });

  it('500 when the LLM does not call a tool it was told to', async () => {
    fake.enqueue({ content: 'I cannot use tools, but the answer is 42.' });
    const res = await reflect(master, 'alpha', { query: 'q' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'llm_tools_unsupported', detail: expect.stringContaining('tool calling') });
  });

  it('500 on a provider error, without the LLM key or a stack in the body', async () => {
    fake.enqueue({ status: 500, body: { error: { message: `upstream broke for key ${LLM_KEY}`, type: 'server_error' } } });
    const res = await reflect(master, 'alpha', { query: 'q' });
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('llm_error');
    expect(res.body).not.toContain(LLM_KEY);
    expect(res.body).not.toMatch(/\n\s+at /);
  });

  it('502 when the LLM endpoint answers 200 with a page that is not a completion (a proxy)', async () => {
    fake.enqueue({ rawBody: '<html><body>Proxy login</body></html>' });
    const res = await reflect(master, 'alpha', { query: 'q' });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'llm_bad_response', detail: expect.stringContaining('OPENAI_BASE_URL') });
  });

  it('504 when one LLM call exceeds REFLECT_LLM_TIMEOUT_MS', async () => {
    fake.enqueue({ hang: true });
    const res = await reflect(master, 'alpha', { query: 'q' });
    expect(res.statusCode).toBe(504);
    expect(res.json().code).toBe('llm_timeout');
  });

  it('504 when the whole reflect exceeds REFLECT_REFLECT_TIMEOUT_MS', async () => {
    fake.latencyMs = 600;
    try {
      fake.enqueue(searchMemories(), searchMemories(), searchMemories());
      const started = Date.now();
      const res = await reflect(master, 'alpha', { query: 'q' });
      expect(res.statusCode).toBe(504);
      expect(res.json().code).toBe('reflect_timeout');
      expect(Date.now() - started).toBeLessThan(1_500 + 400);
    } finally {
      // The third call is still sleeping in the fake; let it take its reply before anything else runs.
      await new Promise((resolve) => setTimeout(resolve, 600));
      fake.latencyMs = 0;
    }
  });
});
