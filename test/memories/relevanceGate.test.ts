import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { similarityCutoff } from '../../src/memories/ranking.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

// Unit vectors with known cosines to the query: near 0.6, unrelated 0.1 (below the default floor 0.2).
const VECTORS: Record<string, number[]> = {
  'gate query': [1, 0, 0],
  'gate near': [0.6, 0.8, 0],
  'gate unrelated': [0.1, 0, Math.sqrt(0.99)],
};

let fake: FakeOpenAI;
let t: TestApp;
let key: string;
const ids: Record<string, string> = {};

async function createMemory(task: string, q: number): Promise<string> {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', payload: { task, reflection: `lesson of ${task}` } });
  expect(res.statusCode).toBe(201);
  await t.app.database.pool.query('update memories set q_value = $1 where id = $2', [q, res.json().id]);
  return res.json().id as string;
}

async function query(body: Record<string, unknown>) {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories/query', payload: { task: 'gate query', mmr_lambda: 1, ...body } });
  expect(res.statusCode).toBe(200);
  return res.json() as { id: string; similarity: number; score: number }[];
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ vectors: VECTORS, embeddingDimensions: 3 });
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' });
  key = await t.masterKey();
  ids.near = await createMemory('gate near', 0.2);
  // A high-Q memory of an unrelated task: without a gate, the Q part of the blend ranks it first.
  ids.unrelated = await createMemory('gate unrelated', 1);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe('default relevance gate (no similarity_threshold given)', () => {
  it('drops memories below REFLECT_DEFAULT_SIMILARITY_FLOOR (0.2) when the caller gives no threshold', async () => {
    const results = await query({ lambda_: 0.5 });
    expect(results.map((r) => r.id)).toEqual([ids.near]);
  });

  it('keeps the contract formula exactly when the caller gives a threshold, null included', async () => {
    const open = await query({ lambda_: 0.5, similarity_threshold: null });
    expect(open.map((r) => r.id)).toEqual([ids.unrelated, ids.near]);
    expect(open[0]!.score).toBeCloseTo(0.5 * 0.1 + 0.5 * 1, 5);
    expect((await query({ lambda_: 0.5, similarity_threshold: 0.05 })).map((r) => r.id)).toEqual([ids.unrelated, ids.near]);
    expect((await query({ lambda_: 0.5, similarity_threshold: 0.7 })).map((r) => r.id)).toEqual([]);
  });

  it('uses REFLECT_DEFAULT_LAMBDA (0.5) when λ is left out', async () => {
    const [near] = await query({ similarity_threshold: null, limit: 2 }).then((r) => r.filter((m) => m.id === ids.near));
    expect(near!.score).toBeCloseTo(0.5 * 0.6 + 0.5 * 0.2, 5);
  });
});

describe('similarityCutoff', () => {
  const pool = [{ similarity: 0.95 }, { similarity: 0.5 }, { similarity: 0.1 }];
  it('is the caller threshold when given (null: none), whatever the gate', () => {
    expect(similarityCutoff(pool, 0.3, { floor: 0.2, margin: 0.1 })).toBe(0.3);
    expect(similarityCutoff(pool, null, { floor: 0.2, margin: 0.1 })).toBeNull();
  });
  it('is the larger of the floor and best − margin otherwise', () => {
    expect(similarityCutoff(pool, undefined, { floor: 0.2, margin: null })).toBe(0.2);
    expect(similarityCutoff(pool, undefined, { floor: null, margin: 0.3 })).toBeCloseTo(0.65, 10);
    expect(similarityCutoff(pool, undefined, { floor: 0.7, margin: 0.3 })).toBe(0.7);
    expect(similarityCutoff(pool, undefined, { floor: null, margin: null })).toBeNull();
    expect(similarityCutoff([], undefined, { floor: null, margin: 0.3 })).toBeNull();
  });
});
