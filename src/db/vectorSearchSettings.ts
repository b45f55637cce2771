/**
 * How the HNSW index is searched, chosen from the query bench's trade-off table (bench/query.ts;
 * README, "Retrieval"): MiniLM query texts against 100k memories need a search list several times
 * the candidate pool before the HNSW result matches an exact scan.
 */

/** The HNSW graph: links per node (m) and the build's search list (ef_construction). */
export const HNSW_M: number = 16;
export const HNSW_EF_CONSTRUCTION: number = 128;

/** hnsw.ef_search per candidate of the pool: 800 for the default pool of 50 (pgvector's default of 40 is below even that pool). */
export const EF_SEARCH_PER_CANDIDATE = 16;

/** pgvector's upper bound for hnsw.ef_search. */
const EF_SEARCH_MAX = 1_000;

/** The pool of the default query (limit 10 → 50 candidates) and of reflect's memory search. */
export const DEFAULT_POOL_SIZE = 50;

/** The search list for a pool of `poolSize` candidates. */
export function efSearchFor(poolSize: number): number {
  return Math.min(EF_SEARCH_MAX, Math.max(DEFAULT_POOL_SIZE, poolSize) * EF_SEARCH_PER_CANDIDATE);
}

/** Every connection's ef_search: enough for the default pool; larger pools raise it per query (SET LOCAL). */
export const SESSION_EF_SEARCH = efSearchFor(DEFAULT_POOL_SIZE);

/**
 * Every connection's settings. The iterative scan keeps a filtered HNSW scan going until it has
 * enough rows instead of returning fewer than the LIMIT when a filter drops most of the nearest
 * ones; relaxed order is re-sorted by the query's ORDER BY on the distance anyway.
 */
export const VECTOR_SEARCH_SETTINGS = ['hnsw.iterative_scan=relaxed_order', `hnsw.ef_search=${SESSION_EF_SEARCH}`];
