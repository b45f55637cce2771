import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import type { Db } from './client.js';
import type { FactType, MemoryRow } from './schema.js';

/** Any fixed number: processes that build the same index take turns. */
const INDEX_LOCK_ID = 727_401_002;

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function indexName(model: string): string {
  return `memories_embedding_hnsw_${createHash('sha1').update(model).digest('hex').slice(0, 12)}`;
}

/**
 * Autovacuum's default rule for re-analyzing a table: more rows changed since the last ANALYZE
 * than autovacuum_analyze_threshold (50) + autovacuum_analyze_scale_factor (0.1) × its rows.
 */
const STALE_STATISTICS_SQL = `
  SELECT s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0) AS stale
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE s.relid = 'memories'::regclass`;

/** How often the query path looks at the statistics (one cheap catalog query). */
const STATISTICS_CHECK_INTERVAL_MS = 60_000;

type Querier = (text: string) => Promise<{ rows: Record<string, unknown>[] }>;

/**
 * ANALYZEs `memories` when autovacuum would. The embedded engine (PGlite) runs PostgreSQL in
 * single-user mode, where autovacuum never runs, so without this the table never gets statistics.
 * The planner then assumes default selectivities for `project_id = …` and `embedding_model = …`
 * (0.5 % each), expects a handful of rows, and sorts the whole project instead of using the
 * HNSW index: measured 63 ms per query at 5k memories instead of 3.4 ms, and ~200 ms at 100k,
 * all of it blocking the event loop. On a server PostgreSQL this rarely fires (autovacuum got there first).
 */
async function analyzeIfStale(query: Querier): Promise<boolean> {
  const { rows } = await query(STALE_STATISTICS_SQL);
  if (rows[0]?.stale !== true) return false;
  await query('ANALYZE memories');
  return true;
}

const statisticsChecks = new WeakMap<object, { lastCheck: number; running: boolean }>();

/** At most one check per interval per database, in the background: a query never waits for it. */
export function keepStatisticsFresh(db: Db): void {
  let state = statisticsChecks.get(db);
  if (!state) statisticsChecks.set(db, (state = { lastCheck: 0, running: false }));
  const now = Date.now();
  if (state.running || now - state.lastCheck < STATISTICS_CHECK_INTERVAL_MS) return;
  state.lastCheck = now;
  state.running = true;
  const checked = state;
  analyzeIfStale(async (text) => db.execute(sql.raw(text)))
    .catch(() => false) // statistics are an optimisation: a failed check waits for the next interval
    .finally(() => {
      checked.running = false;
    });
}

/**
 * Vectors of several models share one untyped column; each model gets its own partial HNSW
 * index over `embedding::vector(d)`, built on first use of that model. Planner statistics are
 * refreshed here too when stale (see analyzeIfStale), so a restart after a bulk import or a
 * long run on the embedded engine starts with plans that use the index.
 */
export async function ensureVectorIndex(pool: pg.Pool, model: string, dimensions: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [INDEX_LOCK_ID]);
    try {
      // Building HNSW over many rows is far faster with more memory (see stack.md).
      await client.query(`SET maintenance_work_mem = '512MB'`);
      await client.query(
        `CREATE INDEX IF NOT EXISTS ${indexName(model)} ON memories USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE embedding_model = ${quoteLiteral(model)}`,
      );
      await client.query('RESET maintenance_work_mem');
      await analyzeIfStale((text) => client.query(text)).catch(() => false);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [INDEX_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

/**
 * One `metadata_filter` entry as SQL. A stored scalar matches by equality, a stored list when it
 * contains the value; a list in the filter matches on any overlap; null matches null or absent.
 */
function metadataCondition(key: string, value: unknown): SQL {
  const field = sql`(metadata -> ${key})`;
  const matchesOne = (v: SQL) =>
    sql`(${field} = ${v} OR (jsonb_typeof(${field}) = 'array' AND ${field} @> jsonb_build_array(${v})))`;
  if (value === null) return sql`(${field} IS NULL OR ${field} = 'null'::jsonb)`;
  if (Array.isArray(value)) {
    return sql`EXISTS (SELECT 1 FROM jsonb_array_elements(${JSON.stringify(value)}::jsonb) AS f(v) WHERE ${matchesOne(sql`f.v`)})`;
  }
  return matchesOne(sql`${JSON.stringify(value)}::jsonb`);
}

export interface Candidate {
  row: MemoryRow;
  similarity: number;
}

/**
 * The candidate pool for a query: nearest memories of one project and model by cosine, with the
 * metadata filter applied in SQL. The HNSW iterative scan (set on every connection) keeps
 * filtered queries from returning fewer rows than asked.
 */
export async function nearestMemories(
  db: Db,
  q: { projectId: string; model: string; dimensions: number; vector: number[]; metadataFilter: Record<string, unknown>; poolSize: number },
): Promise<Candidate[]> {
  keepStatisticsFresh(db);
  const typed = sql.raw(`vector(${q.dimensions})`);
  const query = `[${q.vector.join(',')}]`;
  const filters = Object.entries(q.metadataFilter).map(([k, v]) => sql` AND ${metadataCondition(k, v)}`);
  const result = await db.execute<MemoryRecord & { distance: number }>(sql`
    SELECT id, project_id, task, reflection, q_value, success, summary, key_mistake, correct_action, guidance,
           applicable_tools, tools_used, metadata, tags, fact_type, reflection_source, embedding::text AS embedding, embedding_model,
           source_trace_id, created_at, updated_at,
           (embedding::${typed}) <=> ${query}::${typed} AS distance
    FROM memories
    WHERE project_id = ${q.projectId} AND embedding_model = ${sql.raw(quoteLiteral(q.model))}${sql.join(filters)}
    ORDER BY (embedding::${typed}) <=> ${query}::${typed}
    LIMIT ${q.poolSize}
  `);
  return result.rows.map((r) => ({ row: fromRecord(r), similarity: 1 - Number(r.distance) }));
}

type MemoryRecord = {
  id: string;
  project_id: string;
  task: string;
  reflection: string;
  q_value: number;
  success: boolean | null;
  summary: string;
  key_mistake: string;
  correct_action: string;
  guidance: string;
  applicable_tools: string[];
  tools_used: string[];
  metadata: Record<string, unknown>;
  tags: string[];
  fact_type: FactType;
  reflection_source: string | null;
  embedding: string;
  embedding_model: string;
  source_trace_id: string | null;
  // drizzle leaves timestamps of raw queries as text.
  created_at: string;
  updated_at: string;
};

function fromRecord(r: MemoryRecord): MemoryRow {
  return {
    id: r.id,
    projectId: r.project_id,
    task: r.task,
    reflection: r.reflection,
    qValue: Number(r.q_value),
    success: r.success,
    summary: r.summary,
    keyMistake: r.key_mistake,
    correctAction: r.correct_action,
    guidance: r.guidance,
    applicableTools: r.applicable_tools,
    toolsUsed: r.tools_used,
    metadata: r.metadata,
    tags: r.tags,
    factType: r.fact_type,
    reflectionSource: r.reflection_source,
    embedding: JSON.parse(r.embedding) as number[],
    embeddingModel: r.embedding_model,
    sourceTraceId: r.source_trace_id,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}
