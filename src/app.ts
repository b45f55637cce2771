import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import type { Embedder } from './embeddings/embedder.js';
import { clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH } from './http/clientErrors.js';
import { validatorCompiler } from './http/validator.js';
import auth from './plugins/auth.js';
import database from './plugins/database.js';
import embedder from './plugins/embedder.js';
import errors from './plugins/errors.js';
import llm from './plugins/llm.js';
import llmUsage from './plugins/llmUsage.js';
import metrics from './plugins/metrics.js';
import queue from './plugins/queue.js';
import rateLimit from './plugins/rateLimit.js';
import services from './plugins/services.js';
import swagger from './plugins/swagger.js';
import worker from './plugins/worker.js';
import healthRoutes from './routes/health.js';
import routes from './routes/index.js';

/**
 * What one process does: `all` (API and worker, the embedded default), `api`, or `worker`
 * (processes reviews; serves only health, readiness and metrics).
 */
export type Role = 'all' | 'api' | 'worker';

export interface AppOptions {
  config: Config;
  role?: Role;
  /** An already open database (tests, CLI); otherwise one is opened from the config. */
  database?: Database;
  /** An embedder to use instead of the configured one (tests). */
  embedder?: Embedder;
  logger?: boolean;
}

/**
 * Composes the server: infrastructure (errors, metrics, database, LLM, embeddings, queue, docs, auth,
 * rate limit), then domain services and the worker, then routes. Shutdown runs in reverse:
 * routes drain, the worker finishes its jobs, the queue closes, the database closes last.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.bootstrap_token', '*.api_key'], censor: '[redacted]' },
          },
    bodyLimit: config.bodyLimit,
    // A caller's X-Request-Id (e.g. from a proxy) is kept, so its logs and ours line up.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Opening the embedded engine and migrating can take well over Fastify's default 10 s on a busy machine.
    pluginTimeout: 120_000,
    trustProxy: true,
    // Fastify's own drain 503 is not in the contract's shape; the errors plugin answers it instead.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Refused before routing (bad URL encoding, long path parameter, malformed HTTP): still {detail, code}.
    frameworkErrors,
    clientErrorHandler,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('config', config);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(errors);
  await app.register(metrics, { config });
  await app.register(database, { config, database: options.database });
  await app.register(llmUsage, { config });
  await app.register(llm, { config });
  await app.register(embedder, { config, embedder: options.embedder });
  await app.register(queue, { config });
  const role = options.role ?? 'all';
  if (role !== 'worker') {
    await app.register(swagger);
    await app.register(auth);
    await app.register(rateLimit, { config });
    await app.register(services);
  }
  if (role !== 'api') await app.register(worker, { config });
  await app.register(role === 'worker' ? healthRoutes : routes);
  return app;
}
