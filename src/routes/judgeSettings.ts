import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { judgeBacklogBody, judgeBacklogQueued, judgeSettings, updateJudgeSettingsBody } from '../judge/settingsModels.js';
import { requestPrincipal } from '../plugins/auth.js';
import { projectParams } from '../projects/settingsModels.js';
import { PATHS } from './paths.js';

const tags = ['judge'];

const judgeSettingsRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.projectJudge) {
    app.get(
      url,
      {
        // The project is the path's, not X-Project-Id's.
        config: { scope: 'memories:read', keyOnly: true },
        schema: {
          summary: "A project's judge (the server-side LLM that reviews unreviewed traces): its own settings and what is in effect",
          tags,
          params: projectParams,
          response: { 200: judgeSettings, 404: errorBody, ...authErrors },
        },
      },
      async (request) => app.judgeSettings.get(requestPrincipal(request), request.params.project),
    );

    app.patch(
      url,
      {
        config: { scope: 'memories:write', keyOnly: true },
        schema: {
          summary: "Change a project's judge; null returns a setting to its default. Switching it on needs OPENAI_API_KEY (else 400 llm_not_configured) and a rubric",
          tags,
          params: projectParams,
          body: updateJudgeSettingsBody,
          response: { 200: judgeSettings, 400: errorBody, 404: errorBody, ...authErrors },
        },
      },
      async (request) => app.judgeSettings.update(requestPrincipal(request), request.params.project, request.body),
    );
  }

  for (const url of PATHS.judgeBacklog) {
    app.post(
      url,
      {
        config: { scope: 'memories:write', keyOnly: true },
        schema: {
          summary:
            "Queue the judge for traces that were waiting before it was switched on: the newest `limit` unreviewed traces it has never looked at, not open in the review queue, matching its filter. 409 judge_off while it is off",
          tags,
          params: projectParams,
          body: judgeBacklogBody,
          response: { 200: judgeBacklogQueued, 400: errorBody, 404: errorBody, 409: errorBody, ...authErrors },
        },
        // A POST without a body (Fastify's null) takes the defaults, as `{}` does.
        preValidation: async (request) => {
          request.body ??= {} as typeof request.body;
        },
      },
      async (request) => app.judgeBacklog.queue(requestPrincipal(request), request.params.project, request.body.limit),
    );
  }
};

export default judgeSettingsRoutes;
