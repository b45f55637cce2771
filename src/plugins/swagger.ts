import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

const PROJECT_HEADER = {
  type: 'string',
  description:
    'Project slug. Absent: the key\'s own project (master keys: "default"). A master key naming a missing project creates it.',
  example: 'my-project',
};
const SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKeyHeader: [] }];

/**
 * OpenAPI 3 from the same zod schemas that validate requests. Routes that need a key get the
 * bearer scheme and (unless the project is their `bank_id`) the `X-Project-Id` header; `/docs` serves Swagger UI from local assets.
 */
export default fp(
  async function openapi(app: FastifyInstance) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'reflect-server',
          description:
            'Self-hosted memory server for AI agents, wire-compatible with the Reflect API. Authenticate with `Authorization: Bearer rf_live_…`.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'An API key: rf_<live|test>_<key id>_<secret>' },
            apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          },
        },
      },
      // Schemas with a `.meta({ id })` are emitted as `$ref`s; this puts their definitions in components.
      transformObject: jsonSchemaTransformObject,
      transform: (input) => {
        const out = jsonSchemaTransform(input);
        if (!input.route.config?.scope) return out;
        // Bank routes name their project in the path (bank_id), so the header does not apply.
        if (input.route.config.projectFromBank) return { ...out, schema: { ...out.schema, security: SECURITY } };
        const headers = (out.schema.headers ?? { type: 'object', properties: {} }) as { properties?: Record<string, unknown> };
        return {
          ...out,
          schema: {
            ...out.schema,
            security: SECURITY,
            headers: { ...headers, type: 'object', properties: { ...headers.properties, 'x-project-id': PROJECT_HEADER } },
          },
        };
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'swagger' },
);
