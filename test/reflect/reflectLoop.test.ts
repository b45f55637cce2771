import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { chatRequests, done, doneCitingFound, forcedTool, searchMemories, searchMentalModels, toolOutputs } from './support.js';

let fake: FakeOpenAI;
let t: TestApp;
let key: string;
const ids = {} as Record<"orders" | "refunds" | "mentalModel" | "plain", string>;

async function memory(bank: string, task: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', project: bank, payload: { task, reflection: `lesson: ${task}`, ...extra } });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function reflect(bank: string, payload: Record<string, unknown>) {
  const before = fake.requests.length;
  const res = await t.call(key, { method: 'POST', url: `/v1/default/banks/${bank}/reflect`, payload });
  return { res, body: res.json(), calls: chatRequests(fake, before).map((r) => r.body) };
}

const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));
const toolNames = (body: ChatRequestBody) => ((body.tools as { function: { name: string } }[] | undefined) ?? []).map((x) => x.function.name);

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai', REFLECT_LLM_MODEL: 'fake-model' });
  key = await t.masterKey();
  ids.orders = await memory('shop', 'count the orders placed in March', { tags: ['sql'] });
  ids.refunds = await memory('shop', 'sum the refunds of a customer', { fact_type: 'world' });
  const mm = await t.call(key, {
    method: 'POST',
    url: '/v1/default/banks/shop/mental-models',
    payload: { name: 'Order counting', source_query: 'How are orders counted?', content: 'Always filter on order_date.' },
  });
  ids.mentalModel = mm.json().id;
  ids.plain = await memory('plain', 'restart the flaky worker');
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('the loop', () => {
  it('looks at mental models, then memories, then answers: three LLM calls when the first search finds it', async () => {
    fake.enqueue(searchMentalModels('order counting'), searchMemories('count orders in March'), doneCitingFound('Filter on **order_date**.', [], { mental_model_ids: [ids.mentalModel] }));
    const { res, body, calls } = await reflect('shop', { query: 'How do I count orders in March?', max_tokens: 300, include: { facts: {}, tool_calls: {} } });
    expect(res.statusCode, res.body).toBe(200);
    expect(calls).toHaveLength(3);
    expect(calls.map(forcedTool)).toEqual(['search_mental_models', 'search_memories', 'auto']);
    // max_tokens bounds the answer: only the turn that may write it carries it.
    expect(calls.map((c) => c.max_tokens)).toEqual([undefined, undefined, 300]);
    expect(calls.every((c) => c.model === 'fake-model')).toBe(true);
    expect(toolNames(calls[0]!)).toEqual(['search_mental_models', 'search_memories', 'expand_memory', 'done']);

    expect(body.text).toBe('Filter on **order_date**.');
    expect(body.structured_output).toBeNull();
    expect(body.based_on.mental_models).toEqual([{ id: ids.mentalModel, text: 'Always filter on order_date.', context: 'Order counting' }]);
    expect(body.based_on.memories).toEqual(
      expect.arrayContaining([{ id: ids.orders, text: 'lesson: count the orders placed in March', type: 'experience', context: 'count the orders placed in March' }]),
    );
    expect(body.trace.tool_calls.map((c: { tool: string; iteration: number }) => [c.tool, c.iteration])).toEqual([
      ['search_mental_models', 1],
      ['search_memories', 2],
      ['done', 3],
    ]);
    expect(body.trace.tool_calls[1].output.memories.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([ids.orders, ids.refunds]));
    expect(body.trace.llm_calls.map((c: { scope: string }) => c.scope)).toEqual(['agent_1', 'agent_2', 'agent_3']);
    // Usage is the sum over every call (the fake counts a prompt as its JSON length / 4).
    const input = calls.reduce((sum, c) => sum + estimateTokens(JSON.stringify(c.messages)), 0);
    expect(body.usage.input_tokens).toBe(input);
    expect(body.usage.output_tokens).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.input_tokens + body.usage.output_tokens);
  });

  it('starts with memories when the bank has no mental models (two calls)', async () => {
    fake.enqueue(searchMemories('flaky worker'), doneCitingFound('Restart it.'));
    const { body, calls } = await reflect('plain', { query: 'What about the flaky worker?' });
    expect(calls.map(forcedTool)).toEqual(['search_memories', 'auto']);
    expect(toolNames(calls[0]!)).not.toContain('search_mental_models');
    expect(body.text).toBe('Restart it.');
    expect(body).not.toHaveProperty('based_on');
    expect(body).not.toHaveProperty('trace');
  });

  it.each([
    ['low', 5],
    ['mid', 10],
    ['high', 20],
  ])('budget %s: %i tool turns, then one answer without tools from the evidence', async (budget, turns) => {
    fake.enqueue(...Array.from({ length: turns }, (_, i) => searchMemories(`attempt ${i}`)), { content: `final after ${turns}` });
    const { body, calls } = await reflect('plain', { query: 'What about the worker?', budget, max_tokens: 200, include: { facts: {} } });
    expect(calls).toHaveLength(turns + 1);
    const last = calls.at(-1)!;
    expect(last.tools).toBeUndefined();
    expect(last.max_tokens).toBe(200);
    expect(String(last.messages![1]!.content)).toContain('restart the flaky worker');
    expect(body.text).toBe(`final after ${turns}`);
    // Nothing was cited, so the answer rests on everything found.
    expect(body.based_on.memories.map((m: { id: string }) => m.id)).toEqual([ids.plain]);
  });

  it('refuses done before any evidence, also in the same turn as the first search', async () => {
    fake.enqueue(done('a guess'), { toolCalls: [{ name: 'search_memories', arguments: { query: 'worker' } }, { name: 'done', arguments: { answer: 'still a guess', memory_ids: [] } }] }, doneCitingFound('grounded'));
    const { body, calls } = await reflect('plain', { query: 'What about the worker?', include: { tool_calls: { output: true } } });
    expect(calls).toHaveLength(3);
    const refusals = toolOutputs(calls[2]!).filter((o) => String(o.error ?? '').startsWith('Refused'));
    expect(refusals).toHaveLength(2);
    expect(body.text).toBe('grounded');
    expect(body.trace.tool_calls.map((c: { tool: string }) => c.tool)).toEqual(['done', 'search_memories', 'done', 'done']);
  });

  it('keeps only cited ids that the tools returned', async () => {
    const hidden = await memory('shop', 'a memory no search returns', { tags: ['private'] });
    fake.enqueue(
      searchMentalModels(),
      searchMemories('orders'),
      done('answer', [ids.orders, hidden, 'not-an-id', '00000000-0000-4000-8000-000000000000', ids.orders], { mental_model_ids: [ids.mentalModel, 'made-up'] }),
    );
    // The hidden memory exists in the bank but the tag filter keeps it out of every search.
    const { body } = await reflect('shop', { query: 'orders?', tags: ['sql'], tags_match: 'any', include: { facts: {} } });
    expect(body.based_on.memories.map((m: { id: string }) => m.id)).toEqual([ids.orders]);
    expect(body.based_on.mental_models.map((m: { id: string }) => m.id)).toEqual([ids.mentalModel]);
  });

  it('unknown tools, bad arguments and an empty done get an error back and the loop goes on', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'constructor', arguments: {} }, { name: 'search_memories', arguments: 'not json' }, { name: 'search_memories', arguments: { query: '' } }] },
      searchMemories('worker'),
      done(' '),
      doneCitingFound('fine'),
    );
    const { body } = await reflect('plain', { query: 'worker?', include: { tool_calls: {} } });
    const errors = body.trace.tool_calls.filter((c: { output: { error?: string } }) => c.output.error).map((c: { output: { error: string } }) => c.output.error);
    expect(errors).toEqual([
      'Unknown tool constructor',
      'The arguments must be one JSON object.',
      expect.stringContaining('non-empty "query"'),
      expect.stringContaining('non-empty "answer"'),
    ]);
    expect(body.text).toBe('fine');
  });

  it('an answer in plain text after a search is accepted, uncited', async () => {
    fake.enqueue(searchMemories('worker'), { content: 'Just restart it.' });
    const { body, calls } = await reflect('plain', { query: 'worker?', include: { facts: {} } });
    expect(calls).toHaveLength(2);
    expect(body.text).toBe('Just restart it.');
    expect(body.based_on.memories.map((m: { id: string }) => m.id)).toEqual([ids.plain]);
  });
});

describe('response_schema', () => {
  const schema = {
    type: 'object',
    properties: { steps: { type: 'array', items: { type: 'string' } }, confident: { type: 'boolean' } },
    required: ['steps'],
  };

  it('done carries structured_output per the schema; text is empty', async () => {
    fake.enqueue(searchMemories(), doneCitingFound('see steps', [], { structured_output: { steps: ['restart'], confident: true } }));
    const { body, calls } = await reflect('plain', { query: 'worker?', response_schema: schema });
    const doneTool = (calls[0]!.tools as { function: { name: string; parameters: { properties: Record<string, unknown> } } }[]).find((x) => x.function.name === 'done')!;
    expect(doneTool.function.parameters.properties.structured_output).toEqual(schema);
    expect(body.text).toBe('');
    expect(body.structured_output).toEqual({ steps: ['restart'], confident: true });
  });

  it('output that does not fit the schema is null, not an error', async () => {
    fake.enqueue(searchMemories(), doneCitingFound('x', [], { structured_output: { confident: 'very' } }));
    const { res, body } = await reflect('plain', { query: 'worker?', response_schema: schema });
    expect(res.statusCode).toBe(200);
    expect(body.structured_output).toBeNull();
  });

  it('the tool-less final answer asks for JSON per the schema and parses it', async () => {
    fake.enqueue(...Array.from({ length: 5 }, () => searchMemories()), { content: '{"steps": ["check logs", "restart"]}' });
    const { body, calls } = await reflect('plain', { query: 'worker?', response_schema: schema });
    expect(calls.at(-1)!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema } });
    expect(body.structured_output).toEqual({ steps: ['check logs', 'restart'] });
    expect(body.text).toBe('');

    fake.enqueue(...Array.from({ length: 5 }, () => searchMemories()), { content: 'not json' });
    expect((await reflect('plain', { query: 'worker?', response_schema: schema })).body.structured_output).toBeNull();
  });
});

describe('include', () => {
  it('tool_calls without outputs keeps inputs and timings only', async () => {
    fake.enqueue(searchMemories('worker'), doneCitingFound('ok'));
    const { body } = await reflect('plain', { query: 'worker?', include: { tool_calls: { output: false } } });
    expect(body.trace.tool_calls[0]).toMatchObject({ tool: 'search_memories', input: { query: 'worker' }, output: null, iteration: 1 });
    expect(body.trace.tool_calls[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect(body.trace.llm_calls).toHaveLength(2);
    expect(body).not.toHaveProperty('based_on');
  });
});
