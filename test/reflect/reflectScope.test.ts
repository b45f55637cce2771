import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { chatRequests, doneCitingFound, expandMemory, forcedTool, foundMemoryIds, searchMemories, searchMentalModels } from './support.js';

let fake: FakeOpenAI;
let t: TestApp;
let key: string;

async function memory(bank: string, task: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', project: bank, payload: { task, reflection: `lesson: ${task}`, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function reflect(bank: string, payload: Record<string, unknown>) {
  const before = fake.requests.length;
  const res = await t.call(key, { method: 'POST', url: `/v1/default/banks/${bank}/reflect`, payload });
  expect(res.statusCode, res.body).toBe(200);
  return { body: res.json(), calls: chatRequests(fake, before).map((r) => r.body) };
}

/** Names of the memories the one search of a reflect returned. */
async function searched(bank: string, names: Record<string, string>, payload: Record<string, unknown>): Promise<string[]> {
  fake.enqueue(searchMemories('anything', 20), doneCitingFound('ok'));
  const { body } = await reflect(bank, { query: 'anything', include: { tool_calls: {} }, ...payload });
  const found: string[] = body.trace.tool_calls[0].output.memories.map((m: { id: string }) => m.id);
  return Object.entries(names)
    .filter(([, id]) => found.includes(id))
    .map(([name]) => name)
    .sort();
}

const tagged: Record<string, string> = {};

// 8-d like the fake's other vectors (one embedding model, one dimension); cosines to the query are exact.
const pad = (...xs: number[]) => [...xs, ...Array(8 - xs.length).fill(0)];
const VECTORS: Record<string, number[]> = {
  zebra: pad(1),
  'plain lesson alpha': pad(0.6, 0.8),
  'zebra crossing bravo': pad(0.6, 0, 0.8),
  'plain lesson charlie': pad(0.6, -0.8),
  'zebra crossing delta': pad(0, 1),
};

beforeAll(async () => {
  fake = await startFakeOpenAI({ vectors: VECTORS });
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' });
  key = await t.masterKey();
  for (const [name, tags] of Object.entries({ untagged: [], a: ['a'], b: ['b'], ab: ['a', 'b'] })) {
    tagged[name] = await memory('tags', `memory ${name}`, { tags });
  }
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('tags, tags_match and tag_groups scope the search', () => {
  it.each([
    [['a'], 'any', ['a', 'ab', 'untagged']],
    [['a'], 'all', ['a', 'ab', 'untagged']],
    [['a'], 'any_strict', ['a', 'ab']],
    [['a'], 'all_strict', ['a', 'ab']],
    [['a'], 'exact', ['a']],
    [['a', 'b'], 'any', ['a', 'ab', 'b', 'untagged']],
    [['a', 'b'], 'all', ['ab', 'untagged']],
    [['a', 'b'], 'any_strict', ['a', 'ab', 'b']],
    [['a', 'b'], 'all_strict', ['ab']],
    [['a', 'b'], 'exact', ['ab']],
    [[], 'any', ['a', 'ab', 'b', 'untagged']],
    [[], 'exact', ['untagged']],
  ])('tags %j, %s', async (tags, tagsMatch, expected) => {
    expect(await searched('tags', tagged, { tags, tags_match: tagsMatch })).toEqual(expected);
  });

  it('no tags: everything', async () => {
    expect(await searched('tags', tagged, {})).toEqual(['a', 'ab', 'b', 'untagged']);
  });

  it('tag_groups: groups AND-ed, with or/not', async () => {
    const groups = [{ or: [{ tags: ['a'], match: 'exact' }, { tags: ['b'], match: 'exact' }] }];
    expect(await searched('tags', tagged, { tag_groups: groups })).toEqual(['a', 'b']);
    const notB = [{ tags: ['a'], match: 'any_strict' }, { not: { tags: ['b'], match: 'any_strict' } }];
    expect(await searched('tags', tagged, { tag_groups: notB })).toEqual(['a']);
  });
});

describe('hybrid ranking', () => {
  it('scores (1 − 0.2)·(0.75·similarity + 0.25·text) + 0.2·q, text relative to the best match', async () => {
    const names: Record<string, string> = {};
    for (const name of ['alpha', 'bravo', 'charlie', 'delta']) {
      names[name] = await memory('hybrid', `${['bravo', 'delta'].includes(name) ? 'zebra crossing' : 'plain lesson'} ${name}`);
    }
    await t.app.database.pool.query('update memories set q_value = 1 where id = $1', [names.charlie]);
    fake.enqueue(searchMemories('zebra'), doneCitingFound('ok'));
    const { body } = await reflect('hybrid', { query: 'zebra?', include: { tool_calls: {} } });
    const found = body.trace.tool_calls[0].output.memories.map((m: { id: string; score: number }) => [m.id, m.score]);
    expect(found).toEqual([
      [names.bravo, 0.66], // similarity 0.6, the word matches, q 0.5
      [names.charlie, 0.56], // similarity 0.6, no word, q 1
      [names.alpha, 0.46], // similarity 0.6, no word, q 0.5
      [names.delta, 0.3], // similarity 0, the word matches, q 0.5
    ]);
  });
});

describe('fact_types', () => {
  it('filters memories by type; experience is the default, world is stored with POST /v1/memories', async () => {
    const names = { lesson: await memory('facts', 'a lesson'), fact: await memory('facts', 'a fact', { fact_type: 'world' }) };
    expect(await searched('facts', names, { fact_types: ['world'] })).toEqual(['fact']);
    expect(await searched('facts', names, { fact_types: ['experience'] })).toEqual(['lesson']);
    expect(await searched('facts', names, { fact_types: ['observation'] })).toEqual([]);
    expect(await searched('facts', names, {})).toEqual(['fact', 'lesson']);
  });
});

describe('mental models', () => {
  const mm: Record<string, string> = {};
  beforeAll(async () => {
    for (const [name, tags] of [['first', []], ['second', []], ['scoped', ['team']]] as const) {
      const res = await t.call(key, {
        method: 'POST',
        url: '/v1/default/banks/models/mental-models',
        payload: { id: `mm-${name}`, name, source_query: `what about ${name}?`, content: `${name} content`, tags },
      });
      mm[name] = res.json().id;
    }
    await memory('models', 'a memory');
  });

  it('are searched first, scoped by tags like memories, minus the excluded ids', async () => {
    fake.enqueue(searchMentalModels(), searchMemories(), doneCitingFound('ok'));
    const { body } = await reflect('models', { query: 'q', exclude_mental_model_ids: ['mm-second'], include: { tool_calls: {} } });
    expect(body.trace.tool_calls[0].output.mental_models.map((m: { id: string }) => m.id).sort()).toEqual(['mm-first', 'mm-scoped']);

    fake.enqueue(searchMentalModels(), searchMemories(), doneCitingFound('ok'));
    const strict = await reflect('models', { query: 'q', tags: ['team'], tags_match: 'any_strict', include: { tool_calls: {} } });
    expect(strict.body.trace.tool_calls[0].output.mental_models.map((m: { id: string }) => m.id)).toEqual(['mm-scoped']);
  });

  it('exclude_mental_models removes the tool (and refuses it if called anyway); the first turn goes to memories', async () => {
    fake.enqueue(searchMentalModels(), searchMemories(), doneCitingFound('ok'));
    const { body, calls } = await reflect('models', { query: 'q', exclude_mental_models: true, include: { tool_calls: {} } });
    expect(forcedTool(calls[0]!)).toBe('search_memories');
    expect(JSON.stringify(calls[0]!.tools)).not.toContain('search_mental_models');
    expect(body.trace.tool_calls[0].output).toEqual({ error: expect.stringContaining('excluded') });
  });
});

describe('expand_memory', () => {
  it('returns the run a memory was learned from: task, trajectory excerpt, review feedback', async () => {
    const trajectory = [
      { role: 'user', content: 'How many orders in March?' },
      ...Array.from({ length: 10 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'tool', content: `step ${i}` })),
      { role: 'assistant', content: 'SELECT count(*) FROM orders; -- 1532' },
    ];
    const created = await t.call(key, {
      method: 'POST',
      url: '/v1/traces',
      project: 'runs',
      payload: { task: 'Count the orders placed in March', trajectory, review_result: 'fail', feedback_text: 'Missed the date filter' },
    });
    const traceId = created.json().id;
    // The learning loop writes the memory with the fake's default reflection (nothing is queued).
    const memoryId = await eventually(async () => (await t.call(key, { method: 'GET', url: `/v1/traces/${traceId}`, project: 'runs' })).json().created_memory_id);
    const stored = (await t.call(key, { method: 'GET', url: `/v1/memories/${memoryId}`, project: 'runs' })).json();
    expect(stored.fact_type).toBe('experience');

    fake.enqueue(searchMemories('orders'), (body) => expandMemory(foundMemoryIds(body)[0]!), expandMemory('00000000-0000-4000-8000-000000000000'), doneCitingFound('Filter the date.'));
    const { body } = await reflect('runs', { query: 'orders in March?', include: { tool_calls: {} } });
    const [, expanded, unknown] = body.trace.tool_calls;
    expect(expanded.output.memory.id).toBe(memoryId);
    expect(expanded.output.source).toMatchObject({
      task: 'Count the orders placed in March',
      final_response: 'SELECT count(*) FROM orders; -- 1532',
      review: { result: 'fail', feedback: 'Missed the date filter' },
    });
    const excerpt = expanded.output.source.trajectory_excerpt;
    expect(excerpt.messages[0]).toEqual({ role: 'user', text: 'How many orders in March?' });
    expect(excerpt.messages.at(-1)).toEqual({ role: 'assistant', text: 'SELECT count(*) FROM orders; -- 1532' });
    expect(excerpt.omitted).toBe(trajectory.length - excerpt.messages.length);
    expect(unknown.output.error).toMatch(/Unknown memory id/);
    expect(body.text).toBe('Filter the date.');
  });
});

describe('directives', () => {
  it('go into the prompt: active ones, untagged always, tagged when the request tags match', async () => {
    const create = (payload: Record<string, unknown>) => t.call(key, { method: 'POST', url: '/v1/default/banks/rules/directives', payload });
    await create({ name: 'Global', content: 'Answer in English.', priority: 1 });
    await create({ name: 'Urgent', content: 'Lead with the risk.', priority: 5 });
    await create({ name: 'Off', content: 'Never shown.', is_active: false });
    await create({ name: 'Team', content: 'Mention the on-call rota.', tags: ['team'] });
    await memory('rules', 'a memory');

    fake.enqueue(searchMemories(), doneCitingFound('ok'));
    const plain = await reflect('rules', { query: 'q', include: { facts: {} } });
    const prompt = String(plain.calls[0]!.messages![0]!.content);
    expect(prompt).toContain('1. Urgent: Lead with the risk.\n2. Global: Answer in English.');
    expect(prompt).not.toContain('Never shown');
    expect(prompt).not.toContain('on-call');
    expect(plain.body.based_on.directives.map((d: { name: string }) => d.name)).toEqual(['Urgent', 'Global']);

    fake.enqueue(searchMemories(), doneCitingFound('ok'));
    const team = await reflect('rules', { query: 'q', tags: ['team'] });
    expect(String(team.calls[0]!.messages![0]!.content)).toContain('Mention the on-call rota.');

    fake.enqueue(searchMemories(), doneCitingFound('ok'));
    const all = await reflect('rules', { query: 'q', apply_all_directives: true });
    expect(String(all.calls[0]!.messages![0]!.content)).toContain('Mention the on-call rota.');
  });
});
