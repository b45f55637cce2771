import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { withLlmCallContext } from '../llm/usage/context.js';
import { requestContext } from '../plugins/auth.js';
import {
  createDirectiveBody,
  createdMentalModel,
  createMentalModelBody,
  deleted,
  directive,
  directiveParams,
  listDirectivesQuery,
  listMentalModelsQuery,
  mentalModel,
  mentalModelParams,
  refreshedMentalModel,
  updateDirectiveBody,
  updateMentalModelBody,
} from '../reflect/bankModels.js';
import { toDirectiveWire } from '../reflect/directives.js';
import { toMentalModelWire } from '../reflect/mentalModels.js';
import { bankParams, reflectBody, reflectResponse, withTenant } from '../reflect/models.js';
import { PATHS } from './paths.js';

const read = { scope: 'memories:read', projectFromBank: true } as const;
const write = { scope: 'memories:write', projectFromBank: true } as const;
const bankErrors = { ...authErrors, 404: errorBody };

/** Hindsight's bank API: reflect, mental models and directives, the bank being the project. */
const bankRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.bankReflect) {
    app.post(
      url,
      {
        config: read,
        schema: {
          summary: 'An agentic answer grounded in the bank’s memories, mental models and directives (Hindsight reflect)',
          tags: ['reflect'],
          params: withTenant(url, bankParams),
          body: reflectBody,
          response: { 200: reflectResponse, 400: errorBody, 500: errorBody, 504: errorBody, ...bankErrors },
        },
      },
      async (request) => withLlmCallContext({ requestId: request.id }, () => app.reflect.reflect(requestContext(request).project, request.body)),
    );
  }

  const mentalModelTags = ['mental models'];
  for (const url of PATHS.bankMentalModels) {
    app.get(
      url,
      {
        config: read,
        schema: {
          summary: 'List mental models, oldest first',
          tags: mentalModelTags,
          params: withTenant(url, bankParams),
          querystring: listMentalModelsQuery,
          response: { 200: z.object({ items: z.array(mentalModel) }), ...bankErrors },
        },
      },
      async (request) => {
        const { project } = requestContext(request);
        return { items: (await app.mentalModels.list(project, request.query)).map((m) => toMentalModelWire(m, project.slug)) };
      },
    );

    app.post(
      url,
      {
        config: write,
        schema: {
          summary: 'Create a mental model (its content stays as given until a refresh)',
          tags: mentalModelTags,
          params: withTenant(url, bankParams),
          body: createMentalModelBody,
          response: { 200: createdMentalModel, 409: errorBody, ...bankErrors },
        },
      },
      async (request) => {
        const { project } = requestContext(request);
        const row = await app.mentalModels.create(project, request.body);
        return { ...toMentalModelWire(row, project.slug), mental_model_id: row.id };
      },
    );
  }

  for (const url of PATHS.bankMentalModel) {
    const schema = { tags: mentalModelTags, params: withTenant(url, mentalModelParams) };
    app.get(url, { config: read, schema: { ...schema, summary: 'Get a mental model', response: { 200: mentalModel, ...bankErrors } } }, async (request) => {
      const { project } = requestContext(request);
      return toMentalModelWire(await app.mentalModels.get(project, request.params.mental_model_id), project.slug);
    });

    app.patch(
      url,
      { config: write, schema: { ...schema, summary: 'Edit a mental model', body: updateMentalModelBody, response: { 200: mentalModel, ...bankErrors } } },
      async (request) => {
        const { project } = requestContext(request);
        return toMentalModelWire(await app.mentalModels.update(project, request.params.mental_model_id, request.body), project.slug);
      },
    );

    app.delete(url, { config: write, schema: { ...schema, summary: 'Delete a mental model', response: { 200: deleted, ...bankErrors } } }, async (request) => {
      const row = await app.mentalModels.remove(requestContext(request).project, request.params.mental_model_id);
      return { success: true as const, id: row.id };
    });
  }

  for (const url of PATHS.bankMentalModelRefresh) {
    app.post(
      url,
      {
        config: write,
        schema: {
          summary: 'Run reflect on the model’s source_query and store the answer as its content (synchronous)',
          tags: mentalModelTags,
          params: withTenant(url, mentalModelParams),
          response: { 200: refreshedMentalModel, 400: errorBody, 500: errorBody, 504: errorBody, ...bankErrors },
        },
      },
      async (request) => {
        const { project } = requestContext(request);
        const { operationId, row } = await withLlmCallContext({ requestId: request.id }, () =>
          app.mentalModels.refresh(project, request.params.mental_model_id),
        );
        return { operation_id: operationId, status: 'completed' as const, mental_model: toMentalModelWire(row, project.slug) };
      },
    );
  }

  const directiveTags = ['directives'];
  for (const url of PATHS.bankDirectives) {
    app.get(
      url,
      {
        config: read,
        schema: {
          summary: 'List directives, highest priority first',
          tags: directiveTags,
          params: withTenant(url, bankParams),
          querystring: listDirectivesQuery,
          response: { 200: z.object({ items: z.array(directive) }), ...bankErrors },
        },
      },
      async (request) => {
        const { project } = requestContext(request);
        return { items: (await app.directives.list(project, request.query)).map((d) => toDirectiveWire(d, project.slug)) };
      },
    );

    app.post(
      url,
      {
        config: write,
        schema: { summary: 'Create a directive', tags: directiveTags, params: withTenant(url, bankParams), body: createDirectiveBody, response: { 200: directive, ...bankErrors } },
      },
      async (request) => {
        const { project } = requestContext(request);
        return toDirectiveWire(await app.directives.create(project, request.body), project.slug);
      },
    );
  }

  for (const url of PATHS.bankDirective) {
    const schema = { tags: directiveTags, params: withTenant(url, directiveParams) };
    app.get(url, { config: read, schema: { ...schema, summary: 'Get a directive', response: { 200: directive, ...bankErrors } } }, async (request) => {
      const { project } = requestContext(request);
      return toDirectiveWire(await app.directives.get(project, request.params.directive_id), project.slug);
    });

    app.patch(
      url,
      { config: write, schema: { ...schema, summary: 'Edit a directive', body: updateDirectiveBody, response: { 200: directive, ...bankErrors } } },
      async (request) => {
        const { project } = requestContext(request);
        return toDirectiveWire(await app.directives.update(project, request.params.directive_id, request.body), project.slug);
      },
    );

    app.delete(url, { config: write, schema: { ...schema, summary: 'Delete a directive', response: { 200: deleted, ...bankErrors } } }, async (request) => {
      const row = await app.directives.remove(requestContext(request).project, request.params.directive_id);
      return { success: true as const, id: row.id };
    });
  }
};

export default bankRoutes;
