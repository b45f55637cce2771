import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { StartupError } from '../startupError.js';
import { DataDirInUseError, type EngineAddress } from './embedded/dataDirLock.js';
import { startEmbeddedEngine } from './embedded/engine.js';
import * as schema from './schema.js';
import { VECTOR_SEARCH_SETTINGS } from './vectorSearchSettings.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  db: Db;
  pool: pg.Pool;
  /** `embedded` when this process hosts PGlite itself or uses the engine of the folder's owner. */
  kind: 'embedded' | 'postgres';
  /** A URL other local processes can use to reach the same database (embedded: its socket). */
  url: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Folder for the embedded engine; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
  /** Names this process to another one that finds the data folder taken (e.g. `keys create`). */
  command?: string;
  /**
   * When another process owns the data folder, use its engine as a client instead of failing
   * (the CLI, while a server runs). A server never shares: one folder, one server.
   */
  useRunningEngine?: boolean;
  /** DATABASE_URL: tries before giving up (a database in compose may start after us), and the first wait. */
  connectAttempts?: number;
  connectBackoffMs?: number;
  onConnectRetry?: (info: { attempt: number; attempts: number; delayMs: number; reason: string }) => void;
}

/**
 * Both modes talk to PostgreSQL through the same `pg` pool and drizzle code: the embedded
 * engine is served over the PostgreSQL wire protocol on a socket only this process opens.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 10;
  if (options.databaseUrl) {
    await waitForPostgres(options);
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: poolSize, options: `-c ${VECTOR_SEARCH_SETTINGS.join(' -c ')}` });
    return wrap(pool, 'postgres', options.databaseUrl, async () => {});
  }

  // Until this process owns the folder, or finds the engine of the process that does (a minute at most).
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const engine = await startEmbeddedEngine(options.dataDir, VECTOR_SEARCH_SETTINGS, options.command);
      const pool = new pg.Pool({ host: engine.host, port: engine.port, user: 'postgres', database: 'postgres', max: poolSize });
      return wrap(pool, 'embedded', engine.url, () => engine.close());
    } catch (error) {
      if (!(error instanceof DataDirInUseError)) throw error;
      if (!options.useRunningEngine) {
        throw new StartupError(
          'REFLECT_DATA_DIR',
          `${error.message}; one process owns a data folder: stop that one first, or point REFLECT_DATA_DIR to another folder`,
        );
      }
      const engine = error.owner?.engine;
      if (engine) {
        // The owner's engine already applies the session settings; nothing here may stop or replace it.
        const pool = new pg.Pool({ host: engine.host, port: engine.port, user: 'postgres', database: 'postgres', max: poolSize });
        return wrap(pool, 'embedded', engineUrl(engine), async () => {});
      }
      // The owner is still starting (no engine yet) or did not answer in time.
      if (Date.now() > deadline) {
        throw new StartupError('REFLECT_DATA_DIR', `${error.message}, whose database is not reachable; wait until it has started, or stop it and try again`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function engineUrl(engine: EngineAddress): string {
  return engine.host.startsWith('/')
    ? `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(engine.host)}`
    : `postgresql://postgres@${engine.host}:${engine.port}/postgres`;
}

/** Errors worth waiting out: the server is not up (yet), or is still starting. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', '57P03']);

/**
 * One connection before anything else, retried with backoff on errors a late database gives;
 * a wrong password or a missing database fails at once. The message names the server, never the URL
 * (it holds the password).
 */
async function waitForPostgres(options: DatabaseOptions): Promise<void> {
  const attempts = options.connectAttempts ?? 1;
  const url = new URL(options.databaseUrl!);
  const where = `${url.hostname}:${url.port || 5432}${url.pathname}`;
  for (let attempt = 1; ; attempt++) {
    // Its own client with a timeout: a host that drops packets would otherwise hang here for minutes.
    const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      const { message } = error as Error;
      const code = (error as NodeJS.ErrnoException).code ?? (/timeout/i.test(message) ? 'ETIMEDOUT' : undefined);
      const reason = code ?? message.replace(/\s+/g, ' ');
      if (!code || !TRANSIENT.has(code)) {
        throw new StartupError('DATABASE_URL', `the database at ${where} refused the connection (${reason}); check the URL's user, password and database name`);
      }
      if (attempt >= attempts) {
        throw new StartupError(
          'DATABASE_URL',
          `cannot reach the database at ${where} (${reason}) after ${attempts} attempt${attempts === 1 ? '' : 's'}; check that it runs and the URL's host and port (REFLECT_DATABASE_CONNECT_ATTEMPTS sets how often to try)`,
        );
      }
      const delayMs = Math.min((options.connectBackoffMs ?? 1_000) * 2 ** (attempt - 1), 10_000);
      options.onConnectRetry?.({ attempt, attempts, delayMs, reason });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
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
