import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken, tokenMatches } from '../auth/apiKeys.js';
import type { Config } from '../config.js';
import { countAllMemories } from '../db/memories.js';
import { unauthorized } from '../http/errors.js';
import { StartupError } from '../startupError.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
    /** The port the metrics server listens on (REFLECT_METRICS_PORT, or the one 0 picked); undefined without one. */
    metricsPort: number | undefined;
  }
}

/**
 * Prometheus metrics. Exposed at `GET /metrics` behind `Authorization: Bearer
 * <REFLECT_METRICS_TOKEN>`, and/or without auth on a port of its own (REFLECT_METRICS_PORT,
 * for a scraper on a private network; 0 picks a free one, logged and kept in `app.metricsPort`).
 * With neither set, nothing is exposed.
 */
export default fp(
  async function metricsPlugin(app: FastifyInstance, opts: { config: Config }) {
    const metrics = createMetrics({
      queueDepth: () => app.queue.depth(),
      memoryCount: () => countAllMemories(app.database.db),
    });
    app.decorate('metrics', metrics);
    app.decorate('metricsPort', undefined as number | undefined);

    app.addHook('onResponse', async (request, reply) => {
      metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });

    const { token, port } = opts.config.metrics;
    if (token) {
      app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
        const given = bearerToken(request.headers.authorization);
        if (!given || !tokenMatches(given, token)) throw unauthorized('Metrics need "Authorization: Bearer <REFLECT_METRICS_TOKEN>"');
        return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
      });
    }
    if (port !== undefined) {
      const server: Server = createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          () => res.writeHead(500).end(),
        );
      });
      // A busy port fails the start at once, naming the setting (a listen error is otherwise an unhandled event).
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new StartupError('REFLECT_METRICS_PORT', `cannot listen on ${opts.config.host}:${port} (${err.message}); choose a free port`)));
        server.listen(port, opts.config.host, resolve);
      });
      app.metricsPort = (server.address() as AddressInfo).port;
      app.log.info({ port: app.metricsPort }, `metrics served without auth at http://${opts.config.host}:${app.metricsPort}/metrics`);
      app.addHook('onClose', async () => new Promise<void>((resolve) => server.close(() => resolve())));
    }
  },
  { name: 'metrics' },
);
