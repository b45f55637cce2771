import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import type { FactType } from './schema.js';
import { keepStatisticsFresh, quoteLiteral, retrievableMemory } from './vectorSearch.js';

/**
 * Weights of reflect's hybrid memory search. Relevance is mostly meaning (cosine of the
 * embeddings), with exact words as a second signal that catches names, codes and identifiers
 * an embedding blurs; the learned Q-value then lifts lessons that proved useful.
 */
export const HYBRID_WEIGHTS = { similarity: 0.75, text: 0.25, qValue: 0.2 } as const;

/** Each half of the search contributes at most this many candidates before the final ranking. */
const POOL_PER_SIGNAL = 50;

/**
 * The words of a question as an OR tsquery: a natural question rarely has all its words in one
 * memory, so any word may match and ts_rank rewards memories that have more of them. Only
 * letters and digits survive, so the result is always valid to_tsquery syntax.
 */
export function orTsQuery(text: string): string {
  const words = [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, 32);
  return words.join(' | ');
}

export interface HybridSearch {
  projectId: string;
  model: string;
  dimensions: number;
  vector: number[];
  /** The search text, for the full-text half. */
  text: string;
  /** A condition on the `memories` row alias `m` (tags); undefined = none. */
  tagCondition?: SQL;
  /** null = every fact type. */
  factTypes: FactType[] | null;
  limit: number;
}

/** A memory as reflect reads it: everything but the vector. */
export interface FoundMemory {
  id: string;
  task: string;
  reflection: string;
  factType: FactType;
  tags: string[];
  qValue: number;
  success: boolean | null;
  sourceTraceId: string | null;
  similarity: number;
  textRank: number;
  score: number;
}

type FoundRecord = {
  id: string;
  task: string;
  reflection: string;
  fact_type: FactType;
  tags: string[];
  q_value: number;
  success: boolean | null;
  source_trace_id: string | null;
  similarity: number;
  text_rank: number;
  score: number;
};

const toFound = (r: FoundRecord): FoundMemory => ({
  id: r.id,
  task: r.task,
  reflection: r.reflection,
  factType: r.fact_type,
  tags: r.tags,
  qValue: Number(r.q_value),
  success: r.success,
  sourceTraceId: r.source_trace_id,
  similarity: Number(r.similarity),
  textRank: Number(r.text_rank),
  score: Number(r.score),
});

/**
 * Reflect's memory search, one round trip: the nearest memories by cosine (HNSW, iterative scan
 * so filters never shrink the pool) united with the best full-text matches (GIN on the stored
 * `search_vector`), each filtered by project, tags and fact type in SQL, then ranked by
 *   score = (1 − w_q)·(w_s·similarity + w_t·text) + w_q·q_value
 * where text = ts_rank relative to the best-matching candidate (0..1): ts_rank's own scale is
 * tiny (~0.1 for a word that matches), which would leave exact words no weight at all.
 * ts_rank, not ts_rank_cd: when common words match thousands of memories, cover density
 * doubled the cost of the text half (measured at 10k memories on the embedded engine: ~10 ms
 * against ~20 ms).
 */
export async function hybridMemorySearch(db: Db, q: HybridSearch): Promise<FoundMemory[]> {
  keepStatisticsFresh(db);
  const typed = sql.raw(`vector(${q.dimensions})`);
  const model = sql.raw(quoteLiteral(q.model));
  const queryVector = sql`${`[${q.vector.join(',')}]`}::${typed}`;
  const terms = orTsQuery(q.text);
  const tsquery = sql`to_tsquery('english', ${terms})`;
  const filters = [sql`m.project_id = ${q.projectId}`, retrievableMemory(sql`m`)];
  if (q.tagCondition) filters.push(q.tagCondition);
  if (q.factTypes) filters.push(sql`m.fact_type = ANY(${sql.param(q.factTypes)}::text[])`);
  const where = sql.join(filters, sql` AND `);
  const { similarity: ws, text: wt, qValue: wq } = HYBRID_WEIGHTS;

  const byText = terms
    ? sql`UNION
      (SELECT m.id FROM memories m
       WHERE ${where} AND m.search_vector @@ ${tsquery}
       ORDER BY ts_rank(m.search_vector, ${tsquery}, 32) DESC
       LIMIT ${POOL_PER_SIGNAL})`
    : sql``;
  const result = await db.execute<FoundRecord>(sql`
    WITH candidates AS (
      (SELECT m.id FROM memories m
       WHERE ${where} AND m.embedding_model = ${model}
       ORDER BY (m.embedding::${typed}) <=> ${queryVector}
       LIMIT ${POOL_PER_SIGNAL})
      ${byText}
    ), scored AS (
      SELECT m.id, m.task, m.reflection, m.fact_type, m.tags, m.q_value, m.success, m.source_trace_id,
             CASE WHEN m.embedding_model = ${model} THEN 1 - ((m.embedding::${typed}) <=> ${queryVector}) ELSE 0 END AS similarity,
             ${terms ? sql`ts_rank(m.search_vector, ${tsquery})` : sql`0`} AS raw_text_rank
      FROM candidates c JOIN memories m ON m.id = c.id
    ), relative AS (
      SELECT *, coalesce(raw_text_rank / nullif(max(raw_text_rank) OVER (), 0), 0) AS text_rank FROM scored
    )
    SELECT *, (1 - ${wq}::float8) * (${ws}::float8 * similarity + ${wt}::float8 * text_rank) + ${wq}::float8 * q_value AS score
    FROM relative
    ORDER BY score DESC, id
    LIMIT ${q.limit}
  `);
  return result.rows.map(toFound);
}
