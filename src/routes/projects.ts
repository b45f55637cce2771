import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors } from '../http/schemas.js';
import { requestPrincipal } from '../plugins/auth.js';
import { projectSummary } from '../projects/models.js';
import { PATHS } from './paths.js';

const projectRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.projects) {
    app.get(
      url,
      {
        config: { scope: 'any', keyOnly: true },
        schema: {
          summary: "The projects this key may use, with their counts: a master key's user's projects, or a project key's own",
          tags: ['projects'],
          response: { 200: z.array(projectSummary), ...authErrors },
        },
      },
      async (request) => app.projects.list(requestPrincipal(request)),
    );
  }
};

export default projectRoutes;
