import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { agreementQuery, judgeAgreement } from '../judge/agreementModels.js';
import { requestPrincipal } from '../plugins/auth.js';
import { projectParams } from '../projects/settingsModels.js';
import { PATHS } from './paths.js';

const judgeAgreementRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.judgeAgreement) {
    app.get(
      url,
      {
        // The project is the path's, not X-Project-Id's (like its settings).
        config: { scope: 'memories:read', keyOnly: true },
        schema: {
          summary: "How far the project's judge agrees with human reviewers over a window: agreement rate, Cohen's κ, precision/recall/F1 (pass positive), confusion matrix, disagreements",
          tags: ['judge'],
          params: projectParams,
          querystring: agreementQuery,
          response: { 200: judgeAgreement, 404: errorBody, ...authErrors },
        },
      },
      async (request) => app.judgeAgreement.get(requestPrincipal(request), request.params.project, request.query),
    );
  }
};

export default judgeAgreementRoutes;
