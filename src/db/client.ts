import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { startEmbeddedEngine } from './embedded/engine.js';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  db: Db;
  pool: pg.Pool;
  /** `embedded` when this process hosts PGlite itself. */
  kind: 'embedded' | 'postgres';
  /** A URL other local processes can use to reach the same database (embedded: its socket). */
  url: string;
  close(): Promise<void>;
}

/**
 * Every connection's settings: filtered HNSW scans keep going until they have enough rows
 * (pgvector 0.8's iterative scan) instead of returning fewer than the LIMIT when a filter drops
 * most of the nearest ones.
 */
const VECTOR_SEARCH_SETTINGS = ['hnsw.iterative_scan=relaxed_order', 'hnsw.ef_search=100'];

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Folder for the embedded engine; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
}

/**
 * Both modes talk to PostgreSQL through the same `pg` pool and drizzle code: the embedded
 * engine is served over the PostgreSQL wire protocol on a socket only this process opens.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 10;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: poolSize, options: `-c ${VECTOR_SEARCH_SETTINGS.join(' -c ')}` });
    return wrap(pool, 'postgres', options.databaseUrl, async () => {});
  }

  const engine = await startEmbeddedEngine(options.dataDir, VECTOR_SEARCH_SETTINGS);
  const pool = new pg.Pool({ host: engine.host, port: engine.port, user: 'postgres', database: 'postgres', max: poolSize });
  return wrap(pool, 'embedded', engine.url, () => engine.close());
}

function wrap(pool: pg.Pool, kind: Database['kind'], url: string, closeEngine: () => Promise<void>): Database {
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    db: drizzle(pool, { schema }),
    pool,
    kind,
    url,
    async close() {
      await pool.end();
      await closeEngine();
    },
  };
}
