import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { encodeCursor } from '../http/cursor.js';
import { authErrors } from '../http/schemas.js';
import { listLlmCallsQuery, llmCall } from '../llm/usage/models.js';
import { requestContext } from '../plugins/auth.js';
import { PATHS } from './paths.js';

const llmCallRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.llmCalls) {
    app.get(
      url,
      {
        config: { scope: 'traces:read' },
        schema: {
          summary: "The LLM calls the server made for this project, newest first; the next page is `cursor=<X-Next-Cursor>`",
          tags: ['llm usage'],
          querystring: listLlmCallsQuery,
          response: { 200: z.array(llmCall), ...authErrors },
        },
      },
      async (request, reply) => {
        const { calls, next } = await app.llmCalls.list(requestContext(request).project, request.query);
        if (next) reply.header('X-Next-Cursor', encodeCursor(next));
        return calls;
      },
    );
  }
};

export default llmCallRoutes;
