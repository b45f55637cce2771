import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody, idParams } from '../http/schemas.js';
import {
  augmentedTaskResponse,
  createMemoryBody,
  invalidateMemoryBody,
  listMemoriesQuery,
  memory,
  qValueChange,
  queryMemoriesBody,
  restoreMemoryBody,
  updateMemoryBody,
} from '../memories/models.js';
import { toHistoryWire, toMemoryWire } from '../memories/service.js';
import { requestContext } from '../plugins/auth.js';
import type { Principal } from '../auth/service.js';
import { PATHS } from './paths.js';

const tags = ['memories'];

const actorOf = (principal: Principal) => ({ keyId: principal.keyRowId, label: principal.label });

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
      async (request) => {
        const { project, principal } = requestContext(request);
        return toMemoryWire(await app.memories.update(project, request.params.id, request.body, actorOf(principal)));
      },
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
          summary: 'Every change to a memory, oldest first: Q-updates, edits, invalidations, restores and merges, each with who or what made it',
          tags,
          params: idParams,
          response: { 200: z.array(qValueChange), 404: errorBody, ...authErrors },
        },
      },
      async (request) => (await app.memories.history(requestContext(request).project, request.params.id)).map(toHistoryWire),
    );
  }

  for (const url of PATHS.memoryInvalidate) {
    app.post(
      url,
      {
        config: { scope: 'memories:write' },
        schema: {
          summary: 'Invalidate a memory: it is no longer retrieved but stays listed with its reason and who invalidated it',
          tags,
          params: idParams,
          body: invalidateMemoryBody,
          response: { 200: memory, 404: errorBody, 409: errorBody.describe('Already invalid'), ...authErrors },
        },
      },
      async (request) => {
        const { project, principal } = requestContext(request);
        return toMemoryWire(await app.memories.invalidate(project, request.params.id, request.body.reason, actorOf(principal)));
      },
    );
  }

  for (const url of PATHS.memoryRestore) {
    app.post(
      url,
      {
        config: { scope: 'memories:write' },
        schema: {
          summary: 'Restore an invalidated memory: it is retrieved again',
          tags,
          params: idParams,
          body: restoreMemoryBody,
          response: { 200: memory, 404: errorBody, 409: errorBody.describe('Not invalid'), ...authErrors },
        },
      },
      async (request) => {
        const { project, principal } = requestContext(request);
        return toMemoryWire(await app.memories.restore(project, request.params.id, request.body.reason ?? null, actorOf(principal)));
      },
    );
  }
};

export default memoryRoutes;
