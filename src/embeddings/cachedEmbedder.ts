import { LRUCache } from 'lru-cache';
import type { Embedder } from './embedder.js';

/**
 * Remembers the last `maxEntries` vectors by model and text, so repeated texts (the same query,
 * a re-ingested memory) skip the model. Only the misses reach the inner embedder, in one call.
 * `maxEntries` 0 turns the cache off.
 */
export function withEmbeddingCache(embedder: Embedder, maxEntries: number): Embedder {
  if (maxEntries <= 0) return embedder;
  const cache = new LRUCache<string, number[]>({ max: maxEntries });
  const keyOf = (text: string) => `${embedder.model}\u0000${text}`;

  return {
    model: embedder.model,
    dimensions: embedder.dimensions,
    async embed(texts) {
      // Copies out of the cache, so a caller that mutates its vector cannot corrupt the cache.
      const found = texts.map((text) => cache.get(keyOf(text))?.slice());
      const misses = [...new Set(texts.filter((_, i) => found[i] === undefined))];
      if (misses.length > 0) {
        const vectors = await embedder.embed(misses);
        const fresh = new Map(misses.map((text, i) => [text, vectors[i]!]));
        for (const [text, vector] of fresh) cache.set(keyOf(text), vector);
        return texts.map((text, i) => found[i] ?? fresh.get(text)!.slice());
      }
      return found as number[][];
    },
    async close() {
      cache.clear();
      await embedder.close();
    },
  };
}
