import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  /** A master key for `user`, minted through the service (as the CLI does). */
  masterKey(user?: string, project?: string): Promise<string>;
  /** `app.inject` with a bearer key and an optional project header. */
  call(key: string | undefined, options: InjectOptions & { project?: string }): Promise<LightMyRequestResponse>;
  /** Rows in a table, to prove a rejected request wrote nothing. */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The one way tests build the server: the real app on the real embedded PostgreSQL (in memory
 * unless REFLECT_DATA_DIR is given), configured through the same environment parsing as prod.
 */
export async function buildTestApp(env: Record<string, string> = {}, options: Omit<AppOptions, 'config'> = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REFLECT_DATA_DIR: 'memory://',
    REFLECT_INGEST_BACKOFF_MS: '50',
    REFLECT_SWEEP_INTERVAL_MS: '500',
    ...env,
  });
  const app = await buildApp({ logger: config.logLevel !== 'silent', ...options, config });
  await app.ready();
  return {
    app,
    config,
    async masterKey(user = 'user-1', project = 'default') {
      const key = await app.auth.createMasterKey({ userId: user, projectId: project, label: 'test', environment: 'live' });
      return key.api_key;
    },
    call(key, { project, headers, ...rest }) {
      return app.inject({
        ...rest,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(project ? { 'x-project-id': project } : {}),
          ...headers,
        },
      });
    },
    async count(table) {
      const result = await app.database.pool.query(`select count(*)::int as n from ${table}`);
      return result.rows[0].n as number;
    },
    close: () => app.close(),
  };
}

/** Polls until `check` returns a value (not undefined or null) or the time runs out. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
