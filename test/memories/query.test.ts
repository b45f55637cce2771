import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

// Known unit vectors (exact in float32), so every similarity and score can be computed by hand.
const VECTORS: Record<string, number[]> = {
  'query east': [1, 0, 0],
  'memory east': [1, 0, 0],
  'memory east twin': [1, 0, 0],
  'memory north-east': [0.8, 0.6, 0],
  'memory up-east': [0.6, 0, 0.8],
  'memory north': [0, 1, 0],
};

let fake: FakeOpenAI;
let t: TestApp;
let key: string;
const ids: Record<string, string> = {};

async function createMemory(task: string, q: number, extra: Record<string, unknown> = {}, project?: string): Promise<string> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', project, payload: { task, reflection: `lesson of ${task}`, ...extra } });
  expect(res.statusCode).toBe(201);
  const id = res.json().id as string;
  // Q-values normally come from the learning loop; here they are set directly to known values.
  await t.app.database.pool.query('update memories set q_value = $1 where id = $2', [q, id]);
  return id;
}

async function query(body: Record<string, unknown>, project?: string) {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories/query', project, payload: { task: 'query east', ...body } });
  expect(res.statusCode).toBe(200);
  return res.json() as { id: string; task: string; similarity: number; score: number; q_value: number }[];
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ vectors: VECTORS, embeddingDimensions: 3 });
  // The contract's formula over every memory: the default relevance gate (test/memories/relevanceGate.test.ts) is off here.
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai', REFLECT_DEFAULT_SIMILARITY_FLOOR: 'none', LOG_LEVEL: process.env.TEST_LOG ?? 'silent' });
  key = await t.masterKey();
  ids.east = await createMemory('memory east', 0.1, { metadata: { lang: 'sql', tags: ['db', 'dates'] }, result: 'pass' });
  ids.northEast = await createMemory('memory north-east', 0.9, { metadata: { lang: 'python', tags: ['db'] }, result: 'fail' });
  ids.upEast = await createMemory('memory up-east', 0.5, { metadata: { lang: 'sql', tags: ['web'] } });
  ids.north = await createMemory('memory north', 1.0, { metadata: { lang: 'go' } });
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('POST /v1/memories/query', () => {
  it('ranks by (1 − λ)·similarity + λ·q, as computed by hand', async () => {
    const results = await query({ lambda_: 0.5, mmr_lambda: 1, limit: 10 });
    const expected = [
      { id: ids.northEast, similarity: 0.8, score: 0.5 * 0.8 + 0.5 * 0.9 }, // 0.85
      { id: ids.upEast, similarity: 0.6, score: 0.5 * 0.6 + 0.5 * 0.5 }, // 0.55
      { id: ids.east, similarity: 1, score: 0.5 * 1 + 0.5 * 0.1 }, // 0.55 (tie broken by id)
      { id: ids.north, similarity: 0, score: 0.5 * 0 + 0.5 * 1 }, // 0.5
    ];
    expect(results.map((r) => r.id).slice(0, 1)).toEqual([ids.northEast]);
    for (const e of expected) {
      const r = results.find((x) => x.id === e.id)!;
      expect(r.similarity).toBeCloseTo(e.similarity, 6);
      expect(r.score).toBeCloseTo(e.score, 6);
    }
    expect(results.at(-1)!.id).toBe(ids.north);
  });

  it('orders by similarity alone at λ = 0 and by Q alone at λ = 1', async () => {
    const bySimilarity = await query({ lambda_: 0, mmr_lambda: 1 });
    expect(bySimilarity.map((r) => r.id)).toEqual([ids.east, ids.northEast, ids.upEast, ids.north]);
    const byQ = await query({ lambda: 1, mmr_lambda: 1 });
    expect(byQ.map((r) => r.id)).toEqual([ids.north, ids.northEast, ids.upEast, ids.east]);
    expect(byQ[0]!.score).toBeCloseTo(1, 9);
  });

  it('drops memories below the similarity threshold and honours limit', async () => {
    const results = await query({ lambda_: 0, mmr_lambda: 1, similarity_threshold: 0.7 });
    expect(results.map((r) => r.id)).toEqual([ids.east, ids.northEast]);
    expect((await query({ lambda_: 0, mmr_lambda: 1, limit: 1 })).map((r) => r.id)).toEqual([ids.east]);
  });

  it('filters on metadata: scalar equality, list containment, list overlap, every key', async () => {
    const ids_ = async (filter: Record<string, unknown>) =>
      (await query({ lambda_: 0, mmr_lambda: 1, metadata_filter: filter })).map((r) => r.id).sort();
    expect(await ids_({ lang: 'sql' })).toEqual([ids.east, ids.upEast].sort());
    expect(await ids_({ tags: 'db' })).toEqual([ids.east, ids.northEast].sort());
    expect(await ids_({ tags: ['web', 'dates'] })).toEqual([ids.east, ids.upEast].sort());
    expect(await ids_({ lang: ['go', 'python'] })).toEqual([ids.north, ids.northEast].sort());
    expect(await ids_({ lang: 'sql', tags: 'db' })).toEqual([ids.east]);
    expect(await ids_({ lang: 'rust' })).toEqual([]);
  });

  it('MMR drops a near-duplicate in favour of a diverse memory', async () => {
    const project = 'mmr';
    const east = await createMemory('memory east', 0.5, {}, project);
    const twin = await createMemory('memory east twin', 0.5, {}, project);
    const northEast = await createMemory('memory north-east', 0.5, {}, project);
    const plain = await query({ lambda_: 0, mmr_lambda: 1, limit: 2 }, project);
    expect(plain.map((r) => r.id).sort()).toEqual([east, twin].sort());
    // Second pick at mmr 0.4: the twin scores 0.4·1 − 0.6·1 = −0.2 (identical to the first pick),
    // north-east 0.4·0.8 − 0.6·0.8 = −0.16, so the diverse memory wins.
    const diverse = await query({ lambda_: 0, mmr_lambda: 0.4, limit: 2 }, project);
    expect(diverse).toHaveLength(2);
    expect([east, twin]).toContain(diverse[0]!.id);
    expect(diverse[1]!.id).toBe(northEast);
  });

  it('never returns memories of another project or another user', async () => {
    expect(await query({}, 'empty-project')).toEqual([]);
    const other = await t.masterKey('someone-else', 'default');
    const res = await t.call(other, { method: 'POST', url: '/v1/memories/query', payload: { task: 'query east' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([]);
  });

  it('rejects a bad body with 422', async () => {
    for (const payload of [{}, { task: '' }, { task: 'x', limit: 0 }, { task: 'x', limit: 101 }, { task: 'x', lambda_: 2 }]) {
      const res = await t.call(key, { method: 'POST', url: '/v1/memories/query', payload });
      expect(res.statusCode).toBe(422);
    }
  });
});

describe('POST /v1/memories/augment', () => {
  it('formats the task with successful, failed and other memories, numbered across sections', async () => {
    const res = await t.call(key, {
      method: 'POST',
      url: '/v1/memories/augment',
      payload: { task: 'query east', lambda_: 0, mmr_lambda: 1, limit: 3 },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.memories.map((m: { id: string }) => m.id)).toEqual([ids.east, ids.northEast, ids.upEast]);
    expect(body.augmented_task).toBe(
      [
        'query east',
        '',
        'Relevant memories:',
        '',
        'Successful memories:',
        '',
        '--- Memory 1 ---',
        'Past task:',
        'memory east',
        '',
        'Reflection:',
        'lesson of memory east',
        '',
        'Failed memories:',
        '',
        '--- Memory 2 ---',
        'Past task:',
        'memory north-east',
        '',
        'Reflection:',
        'lesson of memory north-east',
        '',
        'Other relevant memories:',
        '',
        '--- Memory 3 ---',
        'Past task:',
        'memory up-east',
        '',
        'Reflection:',
        'lesson of memory up-east',
      ].join('\n'),
    );
  });

  it('returns the task unchanged when nothing is found', async () => {
    const res = await t.call(key, { method: 'POST', url: '/v1/memories/augment', project: 'nothing-here', payload: { task: 'query east' } });
    expect(res.json()).toEqual({ augmented_task: 'query east', memories: [] });
  });
});
