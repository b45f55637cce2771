import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authErrors } from '../http/schemas.js';
import { requestContext } from '../plugins/auth.js';
import { projectStats, statsQuery } from '../stats/models.js';
import { PATHS } from './paths.js';

const statsRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.stats) {
    app.get(
      url,
      {
        config: { scope: 'traces:read' },
        schema: {
          summary: "A project's overview: totals, reviews, pass rate, memories created and LLM usage per UTC day, Q-value histogram",
          tags: ['stats'],
          querystring: statsQuery,
          response: { 200: projectStats, ...authErrors },
        },
      },
      async (request) => app.stats.overview(requestContext(request).project, request.query.days),
    );
  }
};

export default statsRoutes;
