import type { MemoryRow } from '../db/schema.js';
import { cosine } from '../embeddings/vectorMath.js';

export interface RankedMemory {
  row: MemoryRow;
  similarity: number;
  score: number;
}

/**
 * What the server does when a caller gives no `similarity_threshold`: drop candidates below
 * `floor` (raw cosine) and those more than `margin` below the best candidate. Without it, the
 * Q part of the blend lets high-Q memories of unrelated tasks crowd into the results.
 */
export interface RelevanceGate {
  floor: number | null;
  margin: number | null;
}

/** What a query that leaves λ or the threshold out gets (REFLECT_DEFAULT_LAMBDA, REFLECT_DEFAULT_SIMILARITY_*). */
export interface RetrievalDefaults {
  lambda: number;
  gate: RelevanceGate;
}

export interface RankingOptions {
  /** 0 = pure similarity, 1 = pure Q-value. */
  lambda: number;
  /** The caller's threshold (null = none, the contract's formula); undefined = not given: `defaultGate` applies. */
  similarityThreshold: number | null | undefined;
  defaultGate?: RelevanceGate;
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
  const cutoff = similarityCutoff(candidates, options.similarityThreshold, options.defaultGate);
  const pool = candidates
    .filter((c) => cutoff === null || c.similarity >= cutoff)
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

/** The similarity below which candidates are dropped: the caller's threshold when given, else the default gate's. */
export function similarityCutoff(candidates: { similarity: number }[], threshold: number | null | undefined, gate: RelevanceGate | undefined): number | null {
  if (threshold !== undefined) return threshold;
  if (!gate || (gate.floor === null && gate.margin === null) || candidates.length === 0) return null;
  const best = Math.max(...candidates.map((c) => c.similarity));
  return Math.max(gate.floor ?? -Infinity, gate.margin === null ? -Infinity : best - gate.margin);
}
