import { describe, expect, it } from 'vitest';
import { withEmbeddingCache } from '../../src/embeddings/cachedEmbedder.js';
import type { Embedder } from '../../src/embeddings/embedder.js';

/** A real, tiny Embedder: deterministic 3-d vectors, and a log of every call it receives. */
class RecordingEmbedder implements Embedder {
  readonly model = 'test:recording';
  readonly dimensions = 3;
  readonly calls: string[][] = [];
  closed = false;

  async embed(texts: string[]): Promise<number[][]> {
    this.calls.push([...texts]);
    return texts.map((text) => [text.length, 1, 0]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('withEmbeddingCache', () => {
  it('keeps the inner model name and dimensions', () => {
    const cached = withEmbeddingCache(new RecordingEmbedder(), 10);
    expect(cached.model).toBe('test:recording');
    expect(cached.dimensions).toBe(3);
  });

  it('serves repeated texts from the cache without calling the inner embedder', async () => {
    const inner = new RecordingEmbedder();
    const cached = withEmbeddingCache(inner, 10);
    const first = await cached.embed(['a', 'bb']);
    const second = await cached.embed(['bb', 'a']);
    expect(second).toEqual([first[1], first[0]]);
    expect(inner.calls).toEqual([['a', 'bb']]);
  });

  it('sends only the misses, once each, in a single call, and answers in input order', async () => {
    const inner = new RecordingEmbedder();
    const cached = withEmbeddingCache(inner, 10);
    await cached.embed(['a']);
    const vectors = await cached.embed(['ccc', 'a', 'dddd', 'ccc']);
    expect(inner.calls).toEqual([['a'], ['ccc', 'dddd']]);
    expect(vectors.map((v) => v[0])).toEqual([3, 1, 4, 3]);
  });

  it('evicts the least recently used text when full', async () => {
    const inner = new RecordingEmbedder();
    const cached = withEmbeddingCache(inner, 2);
    await cached.embed(['a', 'bb']);
    await cached.embed(['a']); // 'a' is now more recent than 'bb'
    await cached.embed(['ccc']); // evicts 'bb'
    await cached.embed(['a', 'bb']);
    expect(inner.calls).toEqual([['a', 'bb'], ['ccc'], ['bb']]);
  });

  it('is switched off by maxEntries 0', async () => {
    const inner = new RecordingEmbedder();
    const cached = withEmbeddingCache(inner, 0);
    await cached.embed(['a']);
    await cached.embed(['a']);
    expect(inner.calls).toEqual([['a'], ['a']]);
  });

  it('hands out copies, so a caller mutating a vector cannot corrupt the cache', async () => {
    const cached = withEmbeddingCache(new RecordingEmbedder(), 10);
    const [first] = await cached.embed(['a']);
    first![0] = 999;
    const [hit] = await cached.embed(['a']);
    hit![1] = 999;
    expect(await cached.embed(['a'])).toEqual([[1, 1, 0]]);
  });

  it('passes an empty request through without calling the inner embedder', async () => {
    const inner = new RecordingEmbedder();
    expect(await withEmbeddingCache(inner, 10).embed([])).toEqual([]);
    expect(inner.calls).toEqual([]);
  });

  it('closes the inner embedder', async () => {
    const inner = new RecordingEmbedder();
    await withEmbeddingCache(inner, 10).close();
    expect(inner.closed).toBe(true);
  });
});
