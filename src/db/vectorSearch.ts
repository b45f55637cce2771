import { createHash } from 'node:crypto';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import type { Db } from './client.js';
import { memories, type MemoryRow } from './schema.js';
import { efSearchFor, HNSW_EF_CONSTRUCTION, HNSW_M, SESSION_EF_SEARCH } from './vectorSearchSettings.js';

/** Any fixed number: processes that build the same index take turns. */
const INDEX_LOCK_ID = 727_401_002;

/** An SQL string literal: a partial index is only matched against a literal, not a parameter. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The model's index name: a hash of the model, and the graph parameters when they are not pgvector's defaults. */
export function indexName(model: string): string {
  const base = `memories_embedding_hnsw_${createHash('sha1').update(model).digest('hex').slice(0, 12)}`;
  return HNSW_M === 16 && HNSW_EF_CONSTRUCTION === 64 ? base : `${base}_m${HNSW_M}_efc${HNSW_EF_CONSTRUCTION}`;
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
 * index over `embedding::vector(d)`, built on first use of that model with the graph parameters
 * of vectorSearchSettings.ts. When those change, the next start builds the new index beside the
 * old one (searches keep using the old one meanwhile) and then drops the old one. Planner statistics are
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
      const name = indexName(model);
      await client.query(
        `CREATE INDEX IF NOT EXISTS ${name} ON memories USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) ` +
          `WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) WHERE embedding_model = ${quoteLiteral(model)}`,
      );
      // An index of the same model built with other parameters (an earlier version) is superseded.
      const base = name.replace(/_m\d+_efc\d+$/, '');
      const { rows } = await client.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'memories' AND (indexname = $1 OR indexname ~ $2) AND indexname <> $3`,
        [base, `^${base}_m[0-9]+_efc[0-9]+$`, name],
      );
      for (const r of rows) await client.query(`DROP INDEX IF EXISTS ${r.indexname}`);
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

/**
 * Only live memories are ever retrieved: not invalidated and not expired. `alias` names the
 * memories table in the query (`memories` or a short alias).
 */
export function retrievableMemory(alias: SQL): SQL {
  return sql`(${alias}.invalidated_at IS NULL AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > now()))`;
}

export interface Candidate {
  row: MemoryRow;
  similarity: number;
}

/** `auto`: exact for small projects (see isSmallProject), the HNSW index otherwise. */
export type SearchStrategy = 'auto' | 'index' | 'exact';

/**
 * A project with at most this many memories of a model is searched exactly: a sort of its rows
 * beats a filtered HNSW scan of an index shared with every other project, and is exact.
 * Cross-over measured by the query bench (bench/query.ts, layout 10).
 */
export const EXACT_SEARCH_MAX_ROWS = 2_000;

/** How long a project's size class is trusted before it is counted again (in the background). */
const PROJECT_SIZE_TTL_MS = 60_000;

interface SizeClass {
  small: boolean;
  at: number;
  counting?: Promise<boolean>;
}
const sizeClasses = new WeakMap<object, Map<string, SizeClass>>();

/** A bounded count: reads at most EXACT_SEARCH_MAX_ROWS + 1 index entries, whatever the project's size. */
async function countIsSmall(db: Db, projectId: string, model: string): Promise<boolean> {
  const result = await db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${memories} WHERE ${memories.projectId} = ${projectId} AND ${memories.embeddingModel} = ${model} LIMIT ${EXACT_SEARCH_MAX_ROWS + 1}) s`,
  );
  return Number(result.rows[0]?.n ?? 0) <= EXACT_SEARCH_MAX_ROWS;
}

/**
 * Whether a project is small enough for an exact search, from a per-process cache: the first
 * query of a project counts (bounded), later ones use the cached answer and recount in the
 * background once it is older than PROJECT_SIZE_TTL_MS.
 */
async function isSmallProject(db: Db, projectId: string, model: string): Promise<boolean> {
  let byProject = sizeClasses.get(db);
  if (!byProject) sizeClasses.set(db, (byProject = new Map()));
  const key = `${projectId}\u0000${model}`;
  const known = byProject.get(key);
  const recount = () => {
    const entry: SizeClass = known ?? { small: true, at: 0 };
    entry.counting ??= countIsSmall(db, projectId, model)
      .then((small) => {
        byProject.set(key, { small, at: Date.now() });
        return small;
      })
      .finally(() => {
        entry.counting = undefined;
      });
    byProject.set(key, entry);
    return entry.counting;
  };
  if (!known || known.at === 0) return known?.counting ?? recount();
  if (Date.now() - known.at > PROJECT_SIZE_TTL_MS) void recount().catch(() => undefined);
  return known.small;
}

/**
 * The candidate pool for a query: nearest memories of one project and model by cosine, with the
 * metadata filter applied in SQL. Small projects are sorted exactly; larger ones go through the
 * model's HNSW index with a search list tied to the pool (efSearchFor), and the iterative scan
 * (set on every connection) keeps filtered queries from returning fewer rows than asked.
 */
export async function nearestMemories(
  db: Db,
  q: { projectId: string; model: string; dimensions: number; vector: number[]; metadataFilter: Record<string, unknown>; poolSize: number },
  options: { strategy?: SearchStrategy } = {},
): Promise<Candidate[]> {
  keepStatisticsFresh(db);
  const strategy = options.strategy ?? 'auto';
  const exact = strategy === 'exact' || (strategy === 'auto' && (await isSmallProject(db, q.projectId, q.model)));
  const typed = sql.raw(`vector(${q.dimensions})`);
  const queryVector = `[${q.vector.join(',')}]`;
  const distance = exact
    ? // The column without the index's cast: no index applies, the project's rows are sorted.
      sql<number>`${memories.embedding} <=> ${queryVector}::vector`
    : // The same expression as the model's partial HNSW index, so the planner uses it.
      sql<number>`(${memories.embedding}::${typed}) <=> ${queryVector}::${typed}`;
  const select = (on: Db) =>
    on
      .select({ row: memories, distance })
      .from(memories)
      .where(
        and(
          eq(memories.projectId, q.projectId),
          // A literal, not a parameter: a partial index is only matched against a known value.
          sql`${memories.embeddingModel} = ${sql.raw(quoteLiteral(q.model))}`,
          // Invalidated and expired memories are never retrieved (issue 13; test/memories/hygiene.test.ts). Keep this line.
          retrievableMemory(sql`${memories}`),
          ...Object.entries(q.metadataFilter).map(([k, v]) => metadataCondition(k, v)),
        ),
      )
      .orderBy(distance)
      .limit(q.poolSize);
  const efSearch = efSearchFor(q.poolSize);
  // A pool larger than the default needs a longer search list than the connection's: SET LOCAL,
  // inside a transaction, as the embedded engine shares one session between all connections.
  const rows =
    exact || efSearch <= SESSION_EF_SEARCH
      ? await select(db)
      : await db.transaction(async (tx) => {
          await tx.execute(sql.raw(`SET LOCAL hnsw.ef_search = ${efSearch}`));
          return select(tx as unknown as Db);
        });
  // The iterative scan's relaxed order may return rows slightly out of order: nearest first again.
  return rows.map(({ row, distance }) => ({ row, similarity: 1 - Number(distance) })).sort((a, b) => b.similarity - a.similarity);
}
