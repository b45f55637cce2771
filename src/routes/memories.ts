import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody, idParams } from '../http/schemas.js';
import {
  augmentedTaskResponse,
  createMemoryBody,
  listMemoriesQuery,
  memory,
  qValueChange,
  queryMemoriesBody,
  updateMemoryBody,
} from '../memories/models.js';
import { toMemoryWire } from '../memories/service.js';
import { requestContext } from '../plugins/auth.js';
import { PATHS } from './paths.js';

const tags = ['memories'];

const memoryRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.memoriesQuery) {
    app.post(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: 'Retrieve memories ranked by (1 − λ)·similarity + λ·q, thresholded and diversified (MMR)',
          tags,
          body: queryMemoriesBody,
          response: { 200: z.array(memory), ...authErrors },
        },
      },
      async (request) => (await app.memories.query(requestContext(request).project, request.body)).map((m) => toMemoryWire(m.row, m)),
    );
  }

  for (const url of PATHS.memoriesAugment) {
    app.post(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: 'Retrieve memories and format them into the task text',
          tags,
          body: queryMemoriesBody,
          response: { 200: augmentedTaskResponse, ...authErrors },
        },
      },
      async (request) => app.memories.augment(requestContext(request).project, request.body),
    );
  }

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

    app.patch(
      url,
      {
        config: { scope: 'memories:write' },
        schema: {
          summary: 'Edit a memory (a new task is re-embedded)',
          tags,
          params: idParams,
          body: updateMemoryBody,
          response: { 200: memory, 404: errorBody, ...authErrors },
        },
      },
      async (request) => toMemoryWire(await app.memories.update(requestContext(request).project, request.params.id, request.body)),
    );

    app.delete(
      url,
      {
        config: { scope: 'memories:write' },
        schema: { summary: 'Delete a memory; returns it as it was', tags, params: idParams, response: { 200: memory, 404: errorBody, ...authErrors } },
      },
      async (request) => toMemoryWire(await app.memories.remove(requestContext(request).project, request.params.id)),
    );
  }

  for (const url of PATHS.memoryHistory) {
    app.get(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: 'The Q-value changes the learning loop made to a memory, oldest first',
          tags,
          params: idParams,
          response: { 200: z.array(qValueChange), 404: errorBody, ...authErrors },
        },
      },
      async (request) =>
        (await app.memories.history(requestContext(request).project, request.params.id)).map((h) => ({
          memory_id: h.memoryId,
          trace_id: h.traceId,
          q_before: h.qBefore,
          q_after: h.qAfter,
          reward: h.reward,
          alpha: h.alpha,
          created_at: h.createdAt.toISOString(),
        })),
    );
  }
};

export default memoryRoutes;
