import { afterEach, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { StartupError } from '../../src/startupError.js';

// A server PostgreSQL's application role, played by a role without superuser on the embedded
// engine (every connection there shares one session, so SET ROLE applies to the migrator's too).
let database: Database | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

async function asApplicationRole(): Promise<Database> {
  database = await openDatabase({ dataDir: 'memory://' });
  await database.pool.query(`
    CREATE ROLE app NOSUPERUSER NOCREATEROLE NOCREATEDB;
    GRANT CREATE ON DATABASE postgres TO app;
    GRANT ALL ON SCHEMA public TO app;
    SET ROLE app;`);
  return database;
}

async function installed(db: Database): Promise<string[]> {
  const { rows } = await db.pool.query(`SELECT extname FROM pg_extension WHERE extname = 'vector'`);
  return rows.map((r) => r.extname as string);
}

it('without the extension: one line saying what a superuser must run, and nothing migrated', async () => {
  const db = await asApplicationRole();
  expect((await db.pool.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper).toBe(false);
  const error = await runMigrations(db.pool).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StartupError);
  expect((error as Error).message).toMatch(/^DATABASE_URL: .*a superuser must run `CREATE EXTENSION vector;` in database "postgres"/);
  expect((error as Error).message).not.toContain('\n');
  expect(await installed(db)).toEqual([]);
  expect((await db.pool.query(`SELECT to_regclass('public.traces') AS t`)).rows[0].t).toBeNull();
});

it('with the extension a superuser installed: migrates as the application role', async () => {
  const db = await asApplicationRole();
  await db.pool.query('RESET ROLE; CREATE EXTENSION vector; SET ROLE app;');
  await runMigrations(db.pool);
  const { rows } = await db.pool.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'memories'`);
  expect(rows).toEqual([{ tableowner: 'app' }]);
  // Idempotent: a second run finds nothing to do.
  await runMigrations(db.pool);
});
