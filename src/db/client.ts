import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { installSessionQueue } from './pgliteSessionQueue.js';
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

  const inMemory = options.dataDir.startsWith('memory://');
  const dataDir = inMemory ? options.dataDir : path.resolve(options.dataDir);
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const engine = await PGlite.create({ dataDir, extensions: { vector } });
  // One session serves every connection here, so setting it once covers them all.
  await engine.exec(VECTOR_SEARCH_SETTINGS.map((s) => `SET ${s.replace('=', ' = ')};`).join(' '));

  const socket = socketAddress(inMemory ? undefined : dataDir);
  // A socket file left by a crashed process would make listen() fail.
  if (socket.path && existsSync(socket.path)) rmSync(socket.path);
  const server = new PGLiteSocketServer({
    db: engine,
    ...(socket.path ? { path: socket.path } : { host: '127.0.0.1', port: 0 }),
    maxConnections: 64,
  });
  // The library's own queue lets concurrent connections' queries interleave (see the module).
  installSessionQueue(server, engine);
  await server.start();
  const conn = server.getServerConn();
  const pool = new pg.Pool({
    ...(socket.path ? { host: path.dirname(socket.path), port: 5432 } : hostPort(conn)),
    user: 'postgres',
    database: 'postgres',
    max: poolSize,
  });
  const url = socket.path
    ? `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(path.dirname(socket.path))}`
    : `postgresql://postgres@${conn}/postgres`;
  return wrap(pool, 'embedded', url, async () => {
    await server.stop();
    await engine.close();
  });
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

/** A Unix socket beside the data (only this user can reach it), or loopback TCP when the path is too long. */
function socketAddress(dataDir: string | undefined): { path?: string } {
  if (!dataDir) return {};
  const socketPath = path.join(dataDir, '.s.PGSQL.5432');
  return socketPath.length < 100 ? { path: socketPath } : {};
}

function hostPort(conn: string): { host: string; port: number } {
  const i = conn.lastIndexOf(':');
  return { host: conn.slice(0, i), port: Number(conn.slice(i + 1)) };
}
