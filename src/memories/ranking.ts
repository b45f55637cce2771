import type { MemoryRow } from '../db/schema.js';
import { cosine } from '../embeddings/vectorMath.js';

export interface RankedMemory {
  row: MemoryRow;
  similarity: number;
  score: number;
}

export interface RankingOptions {
  /** 0 = pure similarity, 1 = pure Q-value. */
  lambda: number;
  similarityThreshold: number | null;
  /** 1 = no diversification. */
  mmrLambda: number;
  limit: number;
}

/**
 * The contract's ranking over a candidate pool: score = (1 − λ)·similarity + λ·q; drop those
 * below the similarity threshold; then pick greedily by MMR,
 * argmax mmr·score(d) − (1 − mmr)·max cosine(d, picked), returned in pick order.
 */
export function rankMemories(candidates: { row: MemoryRow; similarity: number }[], options: RankingOptions): RankedMemory[] {
  const pool = candidates
    .filter((c) => options.similarityThreshold === null || c.similarity >= options.similarityThreshold)
    .map((c) => ({ ...c, score: (1 - options.lambda) * c.similarity + options.lambda * c.row.qValue }))
    // Ties break by id so the same data always ranks the same way.
    .sort((a, b) => b.score - a.score || (a.row.id < b.row.id ? -1 : 1));

  if (options.mmrLambda >= 1) return pool.slice(0, options.limit);

  const picked: RankedMemory[] = [];
  // Max similarity of each remaining candidate to anything picked so far, updated per pick.
  const redundancy = new Array<number>(pool.length).fill(0);
  const remaining = new Set(pool.keys());
  while (picked.length < options.limit && remaining.size > 0) {
    let best = -1;
    let bestValue = -Infinity;
    for (const i of remaining) {
      const value = options.mmrLambda * pool[i]!.score - (1 - options.mmrLambda) * redundancy[i]!;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    const choice = pool[best]!;
    picked.push(choice);
    remaining.delete(best);
    for (const i of remaining) {
      redundancy[i] = Math.max(redundancy[i]!, cosine(pool[i]!.row.embedding, choice.row.embedding));
    }
  }
  return picked;
}
