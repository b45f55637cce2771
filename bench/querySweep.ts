/**
 * The query bench's index sweep: for each HNSW variant (m, ef_construction), built over the
 * bench's own copy of the vectors, and each search setting (hnsw.ef_search, hnsw.max_scan_tuples),
 * recall@10 and recall@50 of the top-50 against an exact scan of the same rows, with latency.
 * Search settings are SET LOCAL inside a transaction: the embedded engine shares one session
 * between all connections, so a plain SET would change every other connection's searches too.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { quoteLiteral } from '../src/db/vectorSearch.js';
import { DIMENSIONS, vectorText } from './queryDataset.js';
import { stats, type Stats } from './support.js';

export const POOL = 50;

/** Exact top-k ids per query vector: the column without the index's cast, so no index applies. */
export async function exactTopK(pool: pg.Pool, projectId: string, model: string, vectors: number[][], k = POOL): Promise<{ ids: string[][]; time: Stats }> {
  const ids: string[][] = [];
  const times: number[] = [];
  for (const v of vectors) {
    const start = performance.now();
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM memories WHERE project_id = $1 AND embedding_model = $2 ORDER BY embedding <=> $3::vector LIMIT $4`,
      [projectId, model, vectorText(v), k],
    );
    times.push(performance.now() - start);
    ids.push(rows.map((r) => r.id));
  }
  return { ids, time: stats(times) };
}

/** Top-k through a partial HNSW index of `model`, with `settings` SET LOCAL; rows re-sorted by distance. */
export async function indexedTopK(
  pool: pg.Pool,
  projectId: string,
  model: string,
  vectors: number[][],
  settings: Record<string, string | number>,
  options: { k?: number; condition?: string; /** Fail unless the plan uses this index. */ index?: string; /** The sweep copy: its task holds the original's id. */ copy?: boolean } = {},
): Promise<{ ids: string[][]; time: Stats; short: number }> {
  const client = await pool.connect();
  const ids: string[][] = [];
  const times: number[] = [];
  let short = 0;
  const k = options.k ?? POOL;
  const typed = `vector(${DIMENSIONS})`;
  const sql = `SELECT ${options.copy ? 'task' : 'id'} AS id, (embedding::${typed}) <=> $2::${typed} AS d FROM memories
    WHERE project_id = $1 AND embedding_model = ${quoteLiteral(model)}${options.condition ? ` AND ${options.condition}` : ''} ORDER BY (embedding::${typed}) <=> $2::${typed} LIMIT $3`;
  try {
    for (const v of vectors) {
      await client.query('BEGIN');
      for (const [name, value] of Object.entries(settings)) await client.query(`SET LOCAL ${name} = ${value}`);
      if (options.index && v === vectors[0]) {
        const { rows } = await client.query(`EXPLAIN ${sql}`, [projectId, vectorText(v), k]);
        const plan = rows.map((r) => String(Object.values(r)[0]).replace(/'\[[^\]]*\]'/g, "'[…]'")).join('\n');
        if (!plan.includes(options.index)) throw new Error(`the sweep query does not use ${options.index}:\n${plan}`);
      }
      const start = performance.now();
      const { rows } = await client.query<{ id: string; d: number }>(sql, [projectId, vectorText(v), k]);
      times.push(performance.now() - start);
      await client.query('COMMIT');
      if (rows.length < k) short++;
      ids.push(rows.sort((a, b) => Number(a.d) - Number(b.d)).map((r) => r.id));
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return { ids, time: stats(times), short };
}

/** Share of the exact top-k found in the top-k of `got`, over all queries. */
export function recallAt(truth: string[][], got: string[][], k: number): number {
  let hits = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(truth[i]!.slice(0, k));
    hits += (got[i] ?? []).slice(0, k).filter((id) => want.has(id)).length;
    total += want.size;
  }
  return total ? hits / total : NaN;
}

export interface SweepRow {
  index: string;
  buildMs?: number;
  bytes?: number;
  efSearch: number | null;
  maxScanTuples: number | null;
  recall10: number;
  recall50: number;
  time: Stats;
  short: number;
}
