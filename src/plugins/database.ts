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
    const database = opts.database ?? (await openDatabase({ databaseUrl: opts.config.databaseUrl, dataDir: opts.config.dataDir }));
    await runMigrations(database.pool);
    app.decorate('database', database);
    if (owned) app.addHook('onClose', async () => database.close());
  },
  { name: 'database' },
);
