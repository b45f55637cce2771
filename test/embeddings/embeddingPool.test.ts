import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/embeddings/index.js';
import { createLocalEmbedder } from '../../src/embeddings/localEmbedder.js';
import { loadConfig } from '../../src/config.js';
import { availableParallelism } from 'node:os';

/** The local embedder's pool of threads (REFLECT_EMBEDDING_THREADS). */
const texts = Array.from({ length: 24 }, (_, i) => `Rotate the leaked API key number ${i} of the checkout service before the release`);

describe('local embedder with a pool of threads', () => {
  let one: Awaited<ReturnType<typeof createLocalEmbedder>>;
  let pool: Awaited<ReturnType<typeof createLocalEmbedder>>;
  beforeAll(async () => {
    [one, pool] = await Promise.all([createLocalEmbedder({ threads: 1 }), createLocalEmbedder({ threads: 3 })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([one?.close(), pool?.close()]);
  });

  it('starts one thread, and more only when work waits for them', async () => {
    expect(pool.threads()).toHaveLength(1);
    await pool.embed(['one short text']);
    expect(pool.threads()).toHaveLength(1);
  });

  it('spreads a batch and concurrent requests over several threads, with the same vectors as one thread', async () => {
    const [batch, ...singles] = await Promise.all([pool.embed(texts), ...texts.slice(0, 6).map((t) => pool.embed([t]))]);
    const threads = pool.threads();
    expect(threads).toHaveLength(3);
    expect(new Set(threads.map((t) => t.threadId)).size).toBe(3);
    for (const t of threads) expect(t.slices).toBeGreaterThan(0);

    const reference = await one.embed(texts);
    expect(one.threads()).toHaveLength(1);
    expect(batch).toEqual(reference);
    expect(singles).toEqual(reference.slice(0, 6).map((v) => [v]));
  }, 60_000);
});

describe('REFLECT_EMBEDDING_THREADS', () => {
  it('defaults to the CPUs this process may use and reaches the local embedder', async () => {
    expect(loadConfig({}).embedding.threads).toBe(availableParallelism());
    const config = loadConfig({ REFLECT_EMBEDDING_THREADS: '2', REFLECT_EMBEDDING_CACHE_SIZE: '0' });
    expect(config.embedding.threads).toBe(2);
    const embedder = await createEmbedder(config.embedding);
    try {
      const internal = embedder as unknown as { threads?: () => unknown[] };
      await Promise.all(texts.slice(0, 8).map((t) => embedder.embed([t])));
      expect(internal.threads?.()).toHaveLength(2);
    } finally {
      await embedder.close();
    }
  }, 60_000);

  it('rejects a value that is not a positive integer, naming the setting', () => {
    expect(() => loadConfig({ REFLECT_EMBEDDING_THREADS: '0' })).toThrow(/REFLECT_EMBEDDING_THREADS/);
  });
});
