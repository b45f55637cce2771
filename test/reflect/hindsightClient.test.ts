import type { AddressInfo } from 'node:net';
import { HindsightClient, HindsightError } from '@vectorize-io/hindsight-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { chatRequests, done, doneCitingFound, forcedTool, searchMemories, searchMentalModels } from './support.js';

// Hindsight's own TypeScript client, unchanged, over real HTTP against a listening server; the
// LLM is the fake OpenAI-compatible server, scripted call by call.
let fake: FakeOpenAI;
let t: TestApp;
let client: HindsightClient;
let baseUrl: string;
const BANK = 'hindsight-bank';
const ids: Record<string, string> = {};

async function memory(task: string, extra: Record<string, unknown> = {}): Promise<string> {
  const key = await t.masterKey();
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', project: BANK, payload: { task, reflection: `lesson: ${task}`, ...extra } });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HindsightError);
  return (error as HindsightError).statusCode;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  client = new HindsightClient({ baseUrl, apiKey: await t.masterKey() });
  ids.deploys = await memory('deploy on a Friday', { tags: ['ops'], result: 'fail' });
  ids.rollback = await memory('roll back a release', { tags: ['ops'], fact_type: 'world' });
  ids.untagged = await memory('write the changelog');
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('HindsightClient against reflect-server', () => {
  it('reflect: mental models, directives, memories, citations, usage and trace', async () => {
    const mm = await client.createMentalModel(BANK, 'Release policy', 'When may we deploy?', { id: 'release-policy', tags: ['ops'] });
    expect(mm.mental_model_id).toBe('release-policy');
    await client.updateMentalModel(BANK, 'release-policy', { name: 'Release policy' });
    const rule = await client.createDirective(BANK, 'Risk first', 'Start with the main risk.', { priority: 3 });
    expect(rule).toMatchObject({ name: 'Risk first', priority: 3, is_active: true, bank_id: BANK });

    fake.enqueue(searchMentalModels('deploy policy'), searchMemories('deploy Friday'), doneCitingFound('Do not deploy on Fridays.', ['invented-id'], { mental_model_ids: ['release-policy'] }));
    const before = fake.requests.length;
    const answer = await client.reflect(BANK, 'Can I deploy on Friday?', { budget: 'low', tags: ['ops'], tagsMatch: 'all_strict', includeFacts: true, includeToolCalls: true });
    const calls = chatRequests(fake, before).map((r) => r.body);
    expect(calls.map(forcedTool)).toEqual(['search_mental_models', 'search_memories', 'auto']);
    expect(String(calls[0]!.messages![0]!.content)).toContain('Risk first: Start with the main risk.');

    expect(answer.text).toBe('Do not deploy on Fridays.');
    expect(answer.based_on?.memories?.map((m) => m.id).sort()).toEqual([ids.deploys, ids.rollback].sort());
    expect(answer.based_on?.memories?.find((m) => m.id === ids.rollback)).toEqual({ id: ids.rollback, text: 'lesson: roll back a release', type: 'world', context: 'roll back a release' });
    expect(answer.based_on?.mental_models).toEqual([{ id: 'release-policy', text: '', context: 'Release policy' }]);
    expect(answer.based_on?.directives).toEqual([{ id: rule.id, name: 'Risk first', content: 'Start with the main risk.' }]);
    expect(answer.trace?.tool_calls?.map((c) => c.tool)).toEqual(['search_mental_models', 'search_memories', 'done']);
    expect(answer.trace?.llm_calls).toHaveLength(3);
    expect(answer.usage?.total_tokens).toBe((answer.usage?.input_tokens ?? 0) + (answer.usage?.output_tokens ?? 0));
  });

  it('reflect with a response schema gives structured_output and empty text', async () => {
    const responseSchema = { type: 'object', properties: { allowed: { type: 'boolean' }, reason: { type: 'string' } }, required: ['allowed'] };
    fake.enqueue(searchMentalModels(), searchMemories(), done('no', [], { structured_output: { allowed: false, reason: 'Friday' } }));
    const answer = await client.reflect(BANK, 'Can I deploy on Friday?', { responseSchema, excludeMentalModels: false });
    expect(answer.text).toBe('');
    expect(answer.structured_output).toEqual({ allowed: false, reason: 'Friday' });
  });

  it('refreshMentalModel runs reflect on the source query and stores the answer', async () => {
    fake.enqueue(searchMemories('deploy'), doneCitingFound('Deploy Monday to Thursday only.'));
    const before = fake.requests.length;
    const refresh = await client.refreshMentalModel(BANK, 'release-policy');
    expect(refresh).toMatchObject({ operation_id: expect.any(String), status: 'completed' });
    // The model's own old content is left out, so its refresh starts from the memories.
    expect(forcedTool(chatRequests(fake, before)[0]!.body)).toBe('search_memories');
    const stored = await client.getMentalModel(BANK, 'release-policy');
    expect(stored.content).toBe('Deploy Monday to Thursday only.');
    expect(stored.last_refreshed_at).toEqual(expect.any(String));
    expect((await client.listMentalModels(BANK)).items.map((m) => m.id)).toEqual(['release-policy']);
  });

  it('directives and mental models: list, update, delete', async () => {
    const second = await client.createDirective(BANK, 'Brief', 'Keep it short.', { isActive: false });
    expect((await client.listDirectives(BANK)).items.map((d) => d.name)).toEqual(['Risk first', 'Brief']);
    const updated = await client.updateDirective(BANK, second.id, { isActive: true, priority: 10 });
    expect(updated).toMatchObject({ is_active: true, priority: 10 });
    expect((await client.getDirective(BANK, second.id)).priority).toBe(10);
    await client.deleteDirective(BANK, second.id);
    expect(await statusOf(client.getDirective(BANK, second.id))).toBe(404);

    await client.deleteMentalModel(BANK, 'release-policy');
    expect(await statusOf(client.getMentalModel(BANK, 'release-policy'))).toBe(404);
  });

  it('errors reach the client with their status', async () => {
    expect(await statusOf(client.reflect(BANK, 'q', { responseSchema: { type: 'object' } }))).toBe(422);
    expect(await statusOf(client.reflect(BANK, 'q', { tags: ['a'], tagGroups: [{ tags: ['b'] }] }))).toBe(422);
    expect(await statusOf(client.reflect(BANK, 'q', { factTypes: [] }))).toBe(422);
    expect(await statusOf(new HindsightClient({ baseUrl, apiKey: 'rf_live_wrong_key' }).reflect(BANK, 'q'))).toBe(401);
    fake.enqueue({ content: 'no tools here' });
    expect(await statusOf(client.reflect('hindsight-empty', 'q'))).toBe(500);
  });
});
