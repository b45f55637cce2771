import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody, idParams } from '../http/schemas.js';
import { createMemoryBody, listMemoriesQuery, memory } from '../memories/models.js';
import { toMemoryWire } from '../memories/service.js';
import { requestContext } from '../plugins/auth.js';
import { PATHS } from './paths.js';

const tags = ['memories'];

const memoryRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.memories) {
    app.post(
      url,
      {
        config: { scope: 'memories:write' },
        schema: { summary: 'Store an agent-authored memory (q_value 0.5)', tags, body: createMemoryBody, response: { 201: memory, ...authErrors } },
      },
      async (request, reply) => reply.code(201).send(toMemoryWire(await app.memories.create(requestContext(request).project, request.body))),
    );

    app.get(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: 'Browse memories; the total is in X-Total-Count',
          tags,
          querystring: listMemoriesQuery,
          response: { 200: z.array(memory), ...authErrors },
        },
      },
      async (request, reply) => {
        const { rows, total } = await app.memories.list(requestContext(request).project, request.query);
        reply.header('X-Total-Count', String(total));
        return rows.map((row) => toMemoryWire(row));
      },
    );
  }

  for (const url of PATHS.memory) {
    app.get(
      url,
      {
        config: { scope: 'memories:read' },
        schema: { summary: 'Get a memory', tags, params: idParams, response: { 200: memory, 404: errorBody, ...authErrors } },
      },
      async (request) => toMemoryWire(await app.memories.get(requestContext(request).project, request.params.id)),
    );
  }
};

export default memoryRoutes;
