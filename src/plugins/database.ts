import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';

declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
  }
}

/** Opens PostgreSQL (or the embedded engine), migrates, and closes it last on shutdown. */
export default fp(
  async function database(app: FastifyInstance, opts: { config: Config; database?: Database }) {
    const owned = !opts.database;
    const { config } = opts;
    const database =
      opts.database ??
      (await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        connectAttempts: config.databaseConnect.attempts,
        connectBackoffMs: config.databaseConnect.backoffMs,
        onConnectRetry: ({ attempt, attempts, delayMs, reason }) =>
          app.log.warn({ attempt, attempts, delayMs, reason }, 'DATABASE_URL: the database is not reachable yet; trying again'),
      }));
    await runMigrations(database.pool);
    app.decorate('database', database);
    if (owned) app.addHook('onClose', async () => database.close());
  },
  { name: 'database' },
);
