import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_LIMITS, inputIssues } from '../../src/http/inputRules.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const NUL_MSG = 'must not contain NUL (\\u0000) characters';
const LONE_MSG = 'must not contain unpaired UTF-16 surrogates';
const BOOTSTRAP_TOKEN = 'bootstrap-token-for-input-rules';
const TABLES = ['users', 'projects', 'api_keys', 'traces', 'memories', 'mental_models', 'directives', 'q_value_updates'];

let fake: FakeOpenAI;
let t: TestApp;
let key: string;
let ids: { trace: string; memory: string; directive: string };
const BANK = '/v1/default/banks/default';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    REFLECT_EMBEDDING_PROVIDER: 'openai',
    REFLECT_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
  });
  key = await t.masterKey('input-rules');
  const trace = await t.call(key, { method: 'POST', url: '/v1/traces', payload: { task: 'a task', trajectory: 'ran it' } });
  const memory = await t.call(key, { method: 'POST', url: '/v1/memories', payload: { task: 'a task', reflection: 'a lesson' } });
  const model = await t.call(key, { method: 'POST', url: `${BANK}/mental-models`, payload: { id: 'mm-1', name: 'n', source_query: 'q' } });
  const directive = await t.call(key, { method: 'POST', url: `${BANK}/directives`, payload: { name: 'n', content: 'c' } });
  expect([trace.statusCode, memory.statusCode, model.statusCode, directive.statusCode]).toEqual([202, 201, 200, 200]);
  ids = { trace: trace.json().id, memory: memory.json().id, directive: directive.json().id };
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

async function counts(): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(TABLES.map(async (table) => [table, await t.count(table)] as const)));
}

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PATCH';
  url: () => string;
  payload?: unknown;
  loc: (string | number)[];
  headers?: Record<string, string>;
}

/** Every kind of stored or queried string, each with the bad text at one place. */
function cases(bad: string): Case[] {
  const trace = (extra: object) => ({ task: 'a task', trajectory: [{ role: 'user', content: 'hi' }], ...extra });
  return [
    { name: 'task', method: 'POST', url: () => '/v1/traces', payload: trace({ task: bad }), loc: ['body', 'task'] },
    {
      name: 'trajectory message content',
      method: 'POST',
      url: () => '/v1/traces',
      payload: trace({ trajectory: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: bad }] }),
      loc: ['body', 'trajectory', 2, 'content'],
    },
    {
      name: 'trajectory content part, deep',
      method: 'POST',
      url: () => '/v1/traces',
      payload: trace({ trajectory: [{ role: 'tool', content: [{ type: 'text', text: 'ok' }, { type: 'text', text: bad }] }] }),
      loc: ['body', 'trajectory', 0, 'content', 1, 'text'],
    },
    {
      name: 'trajectory as a JSON string holding the bad text escaped',
      method: 'POST',
      url: () => '/v1/traces',
      payload: trace({ trajectory: JSON.stringify([{ role: 'user', content: 'q' }, { role: 'assistant', content: bad }]) }),
      loc: ['body', 'trajectory', 1, 'content'],
    },
    { name: 'trajectory message role', method: 'POST', url: () => '/v1/traces', payload: trace({ trajectory: [{ role: bad }] }), loc: ['body', 'trajectory', 0, 'role'] },
    { name: 'final_response', method: 'POST', url: () => '/v1/traces', payload: trace({ final_response: bad }), loc: ['body', 'final_response'] },
    { name: 'feedback_text', method: 'POST', url: () => '/v1/traces', payload: trace({ review_result: 'fail', feedback_text: bad }), loc: ['body', 'feedback_text'] },
    { name: 'metadata key', method: 'POST', url: () => '/v1/traces', payload: trace({ metadata: { [`k${bad}`]: 1 } }), loc: ['body', 'metadata', `k${bad}`] },
    { name: 'metadata value, deep', method: 'POST', url: () => '/v1/traces', payload: trace({ metadata: { a: { b: ['x', bad] } } }), loc: ['body', 'metadata', 'a', 'b', 1] },
    { name: 'review feedback', method: 'POST', url: () => `/v1/traces/${ids.trace}/review`, payload: { result: 'pass', feedback_text: bad }, loc: ['body', 'feedback_text'] },
    { name: 'memory reflection', method: 'POST', url: () => '/v1/memories', payload: { task: 't', reflection: bad }, loc: ['body', 'reflection'] },
    { name: 'memory tag', method: 'POST', url: () => '/v1/memories', payload: { task: 't', reflection: 'r', tags: ['ok', bad] }, loc: ['body', 'tags', 1] },
    { name: 'memory edit metadata', method: 'PATCH', url: () => `/v1/memories/${ids.memory}`, payload: { metadata: { x: bad } }, loc: ['body', 'metadata', 'x'] },
    { name: 'metadata_filter value', method: 'POST', url: () => '/v1/memories/query', payload: { task: 'q', metadata_filter: { a: bad } }, loc: ['body', 'metadata_filter', 'a'] },
    { name: 'metadata_filter key', method: 'POST', url: () => '/v1/memories/query', payload: { task: 'q', metadata_filter: { [bad]: 'x' } }, loc: ['body', 'metadata_filter', bad] },
    { name: 'augment task', method: 'POST', url: () => '/v1/memories/augment', payload: { task: bad }, loc: ['body', 'task'] },
    { name: 'key label', method: 'POST', url: () => '/v1/api-keys', payload: { label: bad, scopes: ['memories:read'] }, loc: ['body', 'label'] },
    {
      name: 'bootstrap key label',
      method: 'POST',
      url: () => '/v1/bootstrap',
      payload: { user_id: 'boot-user', project_id: 'boot', key_label: bad },
      headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` },
      loc: ['body', 'key_label'],
    },
    { name: 'mental model name', method: 'POST', url: () => `${BANK}/mental-models`, payload: { name: bad, source_query: 'q' }, loc: ['body', 'name'] },
    { name: 'mental model edit tags', method: 'PATCH', url: () => `${BANK}/mental-models/mm-1`, payload: { tags: [bad] }, loc: ['body', 'tags', 0] },
    { name: 'directive content', method: 'POST', url: () => `${BANK}/directives`, payload: { name: 'n', content: bad }, loc: ['body', 'content'] },
    { name: 'directive edit name', method: 'PATCH', url: () => `${BANK}/directives/${ids.directive}`, payload: { name: bad }, loc: ['body', 'name'] },
    { name: 'reflect query', method: 'POST', url: () => `${BANK}/reflect`, payload: { query: bad }, loc: ['body', 'query'] },
    { name: 'reflect context', method: 'POST', url: () => `${BANK}/reflect`, payload: { query: 'q', context: bad }, loc: ['body', 'context'] },
    {
      name: 'reflect tag group',
      method: 'POST',
      url: () => `${BANK}/reflect`,
      payload: { query: 'q', tag_groups: [{ or: [{ tags: ['a'] }, { tags: [bad] }] }] },
      loc: ['body', 'tag_groups', 0, 'or', 1, 'tags', 0],
    },
    {
      name: 'reflect response_schema property name',
      method: 'POST',
      url: () => `${BANK}/reflect`,
      payload: { query: 'q', response_schema: { type: 'object', properties: { [bad]: { type: 'string' } } } },
      loc: ['body', 'response_schema', 'properties', bad],
    },
  ];
}

/** Only NUL can travel in a URL: an unpaired surrogate has no UTF-8 form to percent-encode. */
const urlCases: Case[] = [
  { name: 'query parameter', method: 'GET', url: () => '/v1/traces?model=a%00b', loc: ['query', 'model'] },
  { name: 'tags query parameter', method: 'GET', url: () => `${BANK}/mental-models?tags=ok&tags=a%00b`, loc: ['query', 'tags', 1] },
  { name: 'path parameter', method: 'GET', url: () => `${BANK}/mental-models/a%00b`, loc: ['path', 'mental_model_id'] },
  { name: 'tenant path parameter', method: 'GET', url: () => '/v1/a%00b/banks/default/directives', loc: ['path', 'tenant'] },
];

describe.each([
  ['NUL (\\u0000)', NUL, NUL_MSG, 'nul_character', [...cases(NUL), ...urlCases]],
  ['an unpaired surrogate (\\ud800)', LONE, LONE_MSG, 'unpaired_surrogate', cases(LONE)],
] as const)('%s in any field: 422 naming the field, nothing written', (_name, _bad, msg, type, table) => {
  it.each(table.map((c) => [c.name, c] as const))('%s', async (_case, c) => {
    const before = await counts();
    const res = await t.call(key, { method: c.method, url: c.url(), payload: c.payload as object, headers: c.headers });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.code).toBe('validation_error');
    // A bad map key is reported at its own loc as "key must not contain …".
    expect(body.detail).toContainEqual({ loc: c.loc, msg: expect.stringContaining(msg), type });
    expect(await counts()).toEqual(before);
  });
});

describe('text is stored exactly as sent', () => {
  it('a well-formed surrogate pair (an emoji) and other control characters are kept', async () => {
    const task = 'emoji 😀 tab\t bell\u0007 é';
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: { task, trajectory: [{ role: 'user', content: task }] } });
    expect(res.statusCode).toBe(202);
    const stored = await t.call(key, { method: 'GET', url: `/v1/traces/${res.json().id}` });
    expect(stored.json().task).toBe(task);
    expect(stored.json().trajectory[0].content).toBe(task);
  });

  it('a body that is not valid UTF-8 is refused (400), not decoded into U+FFFD', async () => {
    const before = await counts();
    for (const bytes of [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff])]) {
      const payload = Buffer.concat([Buffer.from('{"task":"x'), bytes, Buffer.from('y","trajectory":"run"}')]);
      const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ detail: 'Malformed JSON body: it is not valid UTF-8', code: 'invalid_json' });
    }
    expect(await counts()).toEqual(before);
    const utf8 = await t.call(key, {
      method: 'POST',
      url: '/v1/traces',
      payload: Buffer.from('{"task":"café 😀","trajectory":"run"}'),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(utf8.statusCode).toBe(202);
  });

  it('an unpaired surrogate no longer turns into U+FFFD: it is refused', async () => {
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: { task: 'x\udc00y', trajectory: 'run' } });
    expect(res.statusCode).toBe(422);
    const list = await t.call(key, { method: 'GET', url: '/v1/traces?limit=500' });
    expect(list.body).not.toContain('x\ufffdy');
  });
});

describe('sizes of lists and maps (422, nothing written)', () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  const uuids = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const trace = (extra: object) => ({ task: 'a task', trajectory: 'ran it', ...extra });
  it.each([
    ['metadata_filter with 20,000 keys', '/v1/memories/query', { task: 'q', metadata_filter: many(20_000) }, ['body', 'metadata_filter'], 'too_many_keys'],
    ['metadata_filter with 51 keys', '/v1/memories/query', { task: 'q', metadata_filter: many(51) }, ['body', 'metadata_filter'], 'too_many_keys'],
    ['metadata with 101 keys', '/v1/traces', trace({ metadata: many(101) }), ['body', 'metadata'], 'too_many_keys'],
    ['memory metadata with 101 keys', '/v1/memories', { task: 't', reflection: 'r', metadata: many(101) }, ['body', 'metadata'], 'too_many_keys'],
    ['a metadata list of 10,001 items', '/v1/traces', trace({ metadata: { a: Array(10_001).fill(1) } }), ['body', 'metadata', 'a'], 'too_many_items'],
    ['a nested metadata map of 1,001 keys', '/v1/traces', trace({ metadata: { a: many(1_001) } }), ['body', 'metadata', 'a'], 'too_many_keys'],
    ['trajectory of 10,001 messages', '/v1/traces', trace({ trajectory: Array(10_001).fill({ role: 'user', content: 'x' }) }), ['body', 'trajectory'], 'too_many_items'],
    ['retrieved_memory_ids of 1,001', '/v1/traces', trace({ retrieved_memory_ids: uuids(1_001) }), ['body', 'retrieved_memory_ids'], 'too_big'],
    ['tags of 101', '/v1/memories', { task: 't', reflection: 'r', tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, ['body', 'tags'], 'too_big'],
    ['scopes of 21', '/v1/api-keys', { label: 'l', scopes: Array(21).fill('memories:read') }, ['body', 'scopes'], 'too_big'],
    ['tag_groups of 51', `${BANK}/reflect`, { query: 'q', tag_groups: Array(51).fill({ tags: ['a'] }) }, ['body', 'tag_groups'], 'too_big'],
    [
      'tag_groups of 101 groups in all',
      `${BANK}/reflect`,
      { query: 'q', tag_groups: Array(3).fill({ and: Array(40).fill({ tags: ['a'] }) }) },
      ['body', 'tag_groups'],
      'too_many_items',
    ],
    ['fact_types of 11', `${BANK}/reflect`, { query: 'q', fact_types: Array(11).fill('world') }, ['body', 'fact_types'], 'too_big'],
  ] as const)('%s', async (_name, url, payload, loc, type) => {
    const before = await counts();
    const res = await t.call(key, { method: 'POST', url, payload });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().detail).toContainEqual({ loc, msg: expect.any(String), type });
    expect(await counts()).toEqual(before);
  });

  it('a query parameter repeated 101 times', async () => {
    const res = await t.call(key, { method: 'GET', url: `${BANK}/directives?${Array(101).fill('tags=a').join('&')}` });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail[0].loc).toEqual(['query', 'tags']);
  });

  it('at the limits, requests are accepted', async () => {
    const ok = await t.call(key, { method: 'POST', url: '/v1/memories/query', payload: { task: 'q', metadata_filter: many(50) } });
    expect(ok.statusCode).toBe(200);
    const stored = await t.call(key, { method: 'POST', url: '/v1/traces', payload: trace({ metadata: many(100) }) });
    expect(stored.statusCode).toBe(202);
  });
});

describe('nesting depth (422, no stack overflow, nothing written)', () => {
  /** Built as text: the body is deeper than a JS object can be stringified. */
  const nested = (open: string, inner: string, close: string, n: number) => open.repeat(n) + inner + close.repeat(n);
  const post = (url: string, payload: string) => t.call(key, { method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

  it('reflect tag_groups nested 5,000 levels deep', async () => {
    const res = await post(`${BANK}/reflect`, `{"query":"q","tag_groups":[${nested('{"not":', '{"tags":["a"]}', '}', 5000)}]}`);
    expect(res.statusCode).toBe(422);
    const [issue] = res.json().detail;
    expect(issue.type).toBe('too_deep');
    expect(issue.loc.slice(0, 4)).toEqual(['body', 'tag_groups', 0, 'not']);
  });

  it('tag_groups within the JSON limit but nested 11 groups deep', async () => {
    const res = await post(`${BANK}/reflect`, `{"query":"q","tag_groups":[${nested('{"not":', '{"tags":["a"]}', '}', 10)}]}`);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toEqual([{ loc: ['body', 'tag_groups'], msg: 'must not nest groups more than 10 levels deep', type: 'too_deep' }]);
    const ten = await post(`${BANK}/reflect`, `{"query":"q","tag_groups":[${nested('{"not":', '{"tags":["a"]}', '}', 9)}], "budget":"low"}`);
    expect(ten.json().detail?.[0]?.loc ?? []).not.toEqual(['body', 'tag_groups']);
  });

  it.each([
    ['metadata 5,000 levels deep', '/v1/traces', `{"task":"t","trajectory":"x","metadata":${nested('{"a":', '1', '}', 5000)}}`],
    ['a trajectory message 5,000 levels deep', '/v1/traces', `{"task":"t","trajectory":[{"role":"user","content":${nested('[', '1', ']', 5000)}}]}`],
    ['a trajectory string holding 5,000 levels', '/v1/traces', JSON.stringify({ task: 't', trajectory: `[{"role":"user","content":${nested('[', '1', ']', 5000)}}]` })],
    ['a metadata_filter 5,000 levels deep', '/v1/memories/query', `{"task":"t","metadata_filter":{"a":${nested('[', '1', ']', 5000)}}}`],
  ])('%s', async (_name, url, payload) => {
    const before = await counts();
    const res = await post(url, payload);
    expect(res.statusCode).toBe(422);
    const [issue] = res.json().detail;
    expect(issue).toEqual({ loc: expect.any(Array), msg: `must not nest arrays and objects more than ${INPUT_LIMITS.maxDepth} levels deep`, type: 'too_deep' });
    expect(issue.loc.length).toBe(INPUT_LIMITS.maxDepth + 1);
    expect(await counts()).toEqual(before);
  });

  it('32 levels are stored', async () => {
    // body (1) → metadata (2) → 30 more objects (32).
    const res = await post('/v1/traces', `{"task":"t","trajectory":"x","metadata":${nested('{"a":', '1', '}', 30)}}`);
    expect(res.statusCode, res.body).toBe(202);
  });
});

describe('inputIssues', () => {
  it('names every problem by its exact loc, in document order, map keys with "/" included', () => {
    expect(inputIssues({ 'a/b': [NUL, 'ok', { [LONE]: 1 }] }, ['body'])).toEqual([
      { loc: ['body', 'a/b', 0], msg: NUL_MSG, type: 'nul_character' },
      { loc: ['body', 'a/b', 2, LONE], msg: `key ${LONE_MSG}`, type: 'unpaired_surrogate' },
    ]);
  });

  it('measures any depth without recursion and reports at most 20 problems', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(inputIssues(deep)).toEqual([{ loc: Array(INPUT_LIMITS.maxDepth).fill(0), msg: expect.any(String), type: 'too_deep' }]);
    expect(inputIssues(Array(100).fill(NUL))).toHaveLength(20);
  });

  it('accepts well-formed text, pairs and all', () => {
    expect(inputIssues({ text: '😀 \ud83d\ude00 \t\n é' })).toEqual([]);
  });
});

describe('MCP tools answer a tool error naming the argument', () => {
  async function callTool(name: string, args: Record<string, unknown>) {
    const res = await t.call(key, {
      method: 'POST',
      url: '/mcp',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      payload: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } },
    });
    expect(res.statusCode).toBe(200);
    return res.json().result as { isError?: boolean; content: { type: string; text: string }[] };
  }
  const run = { task: 't', final_response: 'f', trajectory: 'ran', result: 'pass' };

  it.each([
    ['retrieve_memories', { query: NUL }, ['arguments', 'query'], NUL_MSG],
    ['retrieve_memories', { query: LONE }, ['arguments', 'query'], LONE_MSG],
    ['create_memory', { ...run, feedback_text: NUL }, ['arguments', 'feedback_text'], NUL_MSG],
    ['create_memory', { ...run, trajectory: [{ role: 'user', content: LONE }] }, ['arguments', 'trajectory', 0, 'content'], LONE_MSG],
    ['create_memory', { ...run, trajectory: JSON.stringify([{ role: 'user', content: NUL }]) }, ['arguments', 'trajectory', 0, 'content'], NUL_MSG],
    ['create_memory', { ...run, metadata: { [NUL]: 1 } }, ['arguments', 'metadata', NUL], `key ${NUL_MSG}`],
    ['create_memory', { ...run, metadata: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) }, ['arguments', 'metadata'], 'must not have more than 100 keys'],
  ] as const)('%s %j', async (tool, args, loc, msg) => {
    const before = await counts();
    const result = await callTool(tool, args);
    expect(result.isError).toBe(true);
    const body = JSON.parse(result.content[0]!.text);
    expect(body.code).toBe('validation_error');
    expect(body.detail).toContainEqual({ loc, msg, type: expect.any(String) });
    expect(result.content[0]!.text).not.toContain('Internal server error');
    expect(await counts()).toEqual(before);
  });

  it('a JSON-RPC batch of more than 20 messages is refused whole (422), writing nothing', async () => {
    const before = await counts();
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'create_memory', arguments: run } });
    const res = await t.call(key, {
      method: 'POST',
      url: '/mcp',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      payload: JSON.stringify(Array.from({ length: 21 }, (_, i) => call(i))),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      detail: [{ loc: ['body'], msg: 'a JSON-RPC batch must not hold more than 20 messages', type: 'too_many_items' }],
      code: 'validation_error',
    });
    expect(await counts()).toEqual(before);
  });

  it('a deeply nested argument', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const body = JSON.parse((await callTool('create_memory', { ...run, metadata: { a: deep } })).content[0]!.text);
    expect(body.detail[0].type).toBe('too_deep');
  });
});
