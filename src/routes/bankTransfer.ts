import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../http/errors.js';
import { authErrors, errorBody } from '../http/schemas.js';
import { requestPrincipal } from '../plugins/auth.js';
import { projectParams } from '../projects/settingsModels.js';
import { PATHS } from './paths.js';

const tags = ['projects'];

const importSummary = z
  .object({
    project_id: z.uuid(),
    memories: z.number().int(),
    history: z.number().int(),
    mental_models: z.number().int(),
    directives: z.number().int(),
    skills: z.number().int(),
    reembedded: z.number().int().describe("Vectors of another embedding model than this server's, re-embedded"),
    new_ids: z.number().int().describe('Memories and directives whose id was taken here, given a new one'),
  })
  .meta({ id: 'BankImportSummary' });

const bankTransferRoutes: FastifyPluginAsyncZod = async (app) => {
  // The body is read line by line by the import itself (no body limit: a bank can be large).
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl'], (_request, payload, done) => done(null, payload));

  for (const url of PATHS.projectExport) {
    app.get(
      url,
      {
        config: { scope: 'memories:read', keyOnly: true },
        schema: {
          summary: 'Export a project as JSON Lines (master key): memories with vectors and Q-values, their history, mental models, directives, Skill versions',
          tags,
          params: projectParams,
          response: { 200: z.string().describe('application/x-ndjson: a header line, then one line per row'), 404: errorBody, ...authErrors },
        },
      },
      async (request, reply) => {
        const stream = await app.bankTransfer.export(requestPrincipal(request), request.params.project);
        return reply.type('application/x-ndjson').header('content-disposition', `attachment; filename="${request.params.project}.jsonl"`).send(stream as never);
      },
    );
  }

  for (const url of PATHS.projectImport) {
    app.post(
      url,
      {
        config: { scope: 'memories:write', keyOnly: true },
        schema: {
          summary: 'Import a bank file (application/x-ndjson) into an empty project, created if new (master key); all of it or nothing',
          tags,
          params: projectParams,
          response: { 200: importSummary, 404: errorBody, 409: errorBody, 415: errorBody, ...authErrors },
        },
      },
      async (request) => {
        const body = request.body as NodeJS.ReadableStream | undefined;
        if (typeof body?.pipe !== 'function') throw new ApiError(415, 'unsupported_media_type', 'Send the bank file as application/x-ndjson');
        return app.bankTransfer.import(requestPrincipal(request), request.params.project, body);
      },
    );
  }
};

export default bankTransferRoutes;
