import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

/**
 * Retrieval quality of the real default embedder (all-MiniLM-L6-v2, local) end to end: memories
 * stored through POST /v1/memories, paraphrased tasks asked through POST /v1/memories/query with
 * pure similarity (lambda_ 0, no MMR). Each query paraphrases one memory's task in other words;
 * every domain holds near-topic distractors (same nouns, different intent).
 *
 * Measured on the fixture: recall@5 1.00, MRR@5 0.95, recall@1 0.91 (69 memories, 69 queries).
 * The floors below leave a margin for engine or fixture changes without hiding a real regression.
 */
const RECALL_AT_5_FLOOR = 0.9;
const MRR_FLOOR = 0.85;
const RECALL_AT_1_FLOOR = 0.8;
const K = 5;

interface Fixture {
  memories: { key: string; domain: string; task: string }[];
  queries: { query: string; expected: string }[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/paraphrases.json', import.meta.url), 'utf8')) as Fixture;

const STOP_WORDS = new Set(
  'a an the of to in on for and or with by from into that which who is are be my our this what how it its at as all every their them they i me we us up out over not no than more most one two'.split(' '),
);
const contentWords = (text: string) => new Set((text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => !STOP_WORDS.has(w)));

let t: TestApp;
let key: string;
/** Memory id → fixture key. */
const keyOfId = new Map<string, string>();

beforeAll(async () => {
  // No embedding settings: the default local provider, exactly what a fresh install runs.
  t = await buildTestApp({ LOG_LEVEL: process.env.TEST_LOG ?? 'silent' });
  key = await t.masterKey();
  for (const memory of fixture.memories) {
    const res = await t.call(key, {
      method: 'POST',
      url: '/v1/memories',
      payload: { task: memory.task, reflection: `Lesson learned while doing: ${memory.task}`, metadata: { domain: memory.domain } },
    });
    expect(res.statusCode).toBe(201);
    keyOfId.set(res.json().id as string, memory.key);
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('paraphrase fixture', () => {
  it('has enough memories and queries, each query naming a stored memory in other words', () => {
    expect(fixture.memories.length).toBeGreaterThanOrEqual(40);
    expect(fixture.queries.length).toBeGreaterThanOrEqual(30);
    const byKey = new Map(fixture.memories.map((m) => [m.key, m]));
    expect(byKey.size).toBe(fixture.memories.length);
    expect(new Set(fixture.memories.map((m) => m.domain)).size).toBeGreaterThanOrEqual(8);
    for (const q of fixture.queries) {
      const memory = byKey.get(q.expected);
      expect(memory, q.expected).toBeDefined();
      // A paraphrase, not a copy: at most 30% of the content words in common (Jaccard).
      const a = contentWords(q.query);
      const b = contentWords(memory!.task);
      const shared = [...a].filter((w) => b.has(w)).length;
      expect(shared / new Set([...a, ...b]).size, q.query).toBeLessThanOrEqual(0.3);
    }
  });
});

describe('retrieval quality of the local embedder through the API', () => {
  it(`finds the paraphrased memory in the top ${K}`, async () => {
    const ranks: number[] = [];
    const misses: string[] = [];
    for (const q of fixture.queries) {
      const res = await t.call(key, {
        method: 'POST',
        url: '/v1/memories/query',
        payload: { task: q.query, lambda_: 0, mmr_lambda: 1, limit: K, similarity_threshold: null }, // the contract's formula, no relevance gate
      });
      expect(res.statusCode).toBe(200);
      const results = res.json() as { id: string; similarity: number }[];
      expect(results).toHaveLength(K);
      // Pure similarity: returned in descending similarity order.
      for (let i = 1; i < results.length; i++) expect(results[i]!.similarity).toBeLessThanOrEqual(results[i - 1]!.similarity);
      const rank = results.findIndex((r) => keyOfId.get(r.id) === q.expected) + 1; // 0 = not in the top K
      ranks.push(rank);
      if (rank !== 1) misses.push(`${q.expected}@${rank || `>${K}`}(top: ${keyOfId.get(results[0]!.id)})`);
    }

    const n = ranks.length;
    const recallAt5 = ranks.filter((r) => r >= 1).length / n;
    const recallAt1 = ranks.filter((r) => r === 1).length / n;
    const mrr = ranks.reduce((sum, r) => sum + (r >= 1 ? 1 / r : 0), 0) / n;
    console.log(
      `[recall] local:all-MiniLM-L6-v2, ${fixture.memories.length} memories, ${n} paraphrased queries: ` +
        `recall@${K} ${recallAt5.toFixed(3)}, MRR@${K} ${mrr.toFixed(3)}, recall@1 ${recallAt1.toFixed(3)}` +
        (misses.length ? `; not first: ${misses.join(', ')}` : ''),
    );

    expect(recallAt5).toBeGreaterThanOrEqual(RECALL_AT_5_FLOOR);
    expect(mrr).toBeGreaterThanOrEqual(MRR_FLOOR);
    expect(recallAt1).toBeGreaterThanOrEqual(RECALL_AT_1_FLOOR);
  }, 120_000);
});
