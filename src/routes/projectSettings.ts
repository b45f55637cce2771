import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { requestPrincipal } from '../plugins/auth.js';
import { projectParams, projectSettings, updateProjectSettingsBody } from '../projects/settingsModels.js';
import { PATHS } from './paths.js';

const tags = ['projects'];

const projectSettingsRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.projectSettings) {
    app.get(
      url,
      {
        // The project is the path's, not X-Project-Id's.
        config: { scope: 'memories:read', keyOnly: true },
        schema: {
          summary: "A project's settings (consolidation of near-duplicate memories): its own values and what is in effect",
          tags,
          params: projectParams,
          response: { 200: projectSettings, 404: errorBody, ...authErrors },
        },
      },
      async (request) => app.projectSettings.get(requestPrincipal(request), request.params.project),
    );

    app.patch(
      url,
      {
        config: { scope: 'memories:write', keyOnly: true },
        schema: {
          summary: "Change a project's settings; null returns a setting to the server's default",
          tags,
          params: projectParams,
          body: updateProjectSettingsBody,
          response: { 200: projectSettings, 404: errorBody, ...authErrors },
        },
      },
      async (request) => app.projectSettings.update(requestPrincipal(request), request.params.project, request.body),
    );
  }
};

export default projectSettingsRoutes;
