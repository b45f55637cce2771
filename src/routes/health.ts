import { sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PATHS } from './paths.js';

const status = z.object({ status: z.literal('ok') }).meta({ example: { status: 'ok' } });
const readiness = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.enum(['ok', 'unavailable']),
  queue: z.enum(['ok', 'unavailable']),
  /** Informational: reviews wait for the LLM, requests do not, so it never fails readiness. */
  llm: z.enum(['ok', 'unreachable', 'not_configured']),
});

const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.health) {
    app.get(url, { config: { rateLimit: false }, schema: { summary: 'Liveness', tags: ['health'], response: { 200: status } } }, async () => ({
      status: 'ok' as const,
    }));
  }

  for (const url of PATHS.ready) {
    app.get(
      url,
      {
        config: { rateLimit: false },
        schema: { summary: 'Readiness: database and job queue reachable (and the LLM endpoint, for information)', tags: ['health'], response: { 200: readiness, 503: readiness } },
      },
      async (_request, reply) => {
        const database = await app.database.db
          .execute(sql`select 1`)
          .then(() => 'ok' as const)
          .catch(() => 'unavailable' as const);
        const queue = (await app.queue.isReady()) ? ('ok' as const) : ('unavailable' as const);
        const llm = await app.llmEndpoint.state();
        const ok = database === 'ok' && queue === 'ok';
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database, queue, llm });
      },
    );
  }
};

export default healthRoutes;
