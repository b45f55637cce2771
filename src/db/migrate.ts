import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { StartupError } from '../startupError.js';

/** Any fixed number: every process that migrates takes this advisory lock first. */
const MIGRATION_LOCK_ID = 727_401_001;

/** The migrations folder, found from this file both in src/ (tsx) and in dist/ (compiled). */
export function migrationsFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('migrations folder not found');
    dir = parent;
  }
}

/**
 * Applies pending migrations. Idempotent, and safe when several processes start at once:
 * the advisory lock makes the others wait, then find nothing left to apply.
 */
export async function runMigrations(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await ensureVectorExtension(client);
      await migrate(drizzle(client), { migrationsFolder: migrationsFolder() });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

/**
 * pgvector must be in the database before the tables that use it. Creating an extension that is
 * not trusted takes a superuser, which an application role on a managed server is not: an
 * installed extension is used as it is (migration 0000 skips it too), and a missing one is
 * reported as the one statement a superuser has to run.
 */
async function ensureVectorExtension(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ installed: boolean; database: string }>(
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed, current_database() AS database",
  );
  if (rows[0]!.installed) return;
  const database = rows[0]!.database;
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42501') {
      throw new StartupError(
        'DATABASE_URL',
        `this role may not create the pgvector extension; a superuser must run \`CREATE EXTENSION vector;\` in database "${database}", then start again`,
      );
    }
    if (code === '58P01' || code === '0A000') {
      throw new StartupError(
        'DATABASE_URL',
        `the PostgreSQL server has no pgvector extension to install; install pgvector on it (e.g. the pgvector/pgvector image), then a superuser runs \`CREATE EXTENSION vector;\` in database "${database}"`,
      );
    }
    throw error;
  }
}
