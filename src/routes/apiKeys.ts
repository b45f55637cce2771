import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bearerToken, ENVIRONMENTS, PROJECT_SLUG, PROJECT_SLUG_RULE, SCOPES, USER_ID, USER_ID_RULE } from '../auth/apiKeys.js';
import type { ApiKeyInfo } from '../auth/service.js';
import { requestContext } from '../plugins/auth.js';
import { authErrors, errorBody, idParams, iso, isoOrNull, nullableTimestamp, timestamp } from '../http/schemas.js';
import { PATHS } from './paths.js';

const userId = z.string().regex(USER_ID, `user_id must be ${USER_ID_RULE}`);
// The same rule as X-Project-Id: a bootstrapped project must be addressable afterwards.
const projectSlug = z.string().regex(PROJECT_SLUG, `project_id must be ${PROJECT_SLUG_RULE}`);

const apiKeyInfo = z
  .object({
    id: z.uuid(),
    label: z.string(),
    key_prefix: z.string(),
    environment: z.enum(ENVIRONMENTS),
    scopes: z.array(z.enum(SCOPES)),
    is_master: z.boolean(),
    user_id: z.string(),
    project_id: z.string(),
    created_at: timestamp,
    last_used_at: nullableTimestamp,
    revoked_at: nullableTimestamp,
  })
  .meta({ id: 'ApiKeyInfo' });

const createdApiKey = apiKeyInfo
  .extend({ api_key: z.string().describe('The plaintext key. Shown once; only its hash is stored.') })
  .meta({ id: 'CreatedApiKey' });

const bootstrapBody = z
  .object({
    user_id: userId,
    project_id: projectSlug,
    key_label: z.string().min(1).max(200).default('Default Admin Key'),
    environment: z.enum(ENVIRONMENTS).default('live'),
    bootstrap_token: z.string().optional().describe('Alternative to "Authorization: Bearer <token>"'),
  })
  .meta({ example: { user_id: 'user-1', project_id: 'my-project' } });

const createKeyBody = z
  .object({
    label: z.string().min(1).max(200),
    scopes: z.array(z.enum(SCOPES)).min(1).max(20),
    environment: z.enum(ENVIRONMENTS).default('live'),
  })
  .meta({ example: { label: 'CI agent', scopes: ['memories:read', 'traces:write'], environment: 'live' } });

function wire(info: ApiKeyInfo) {
  return {
    ...info,
    environment: info.environment as (typeof ENVIRONMENTS)[number],
    scopes: info.scopes as (typeof SCOPES)[number][],
    created_at: iso(info.created_at),
    last_used_at: isoOrNull(info.last_used_at),
    revoked_at: isoOrNull(info.revoked_at),
  };
}

const apiKeyRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.bootstrap) {
    app.post(
      url,
      {
        schema: {
          summary: 'Create the first master key for a user (needs REFLECT_BOOTSTRAP_TOKEN)',
          tags: ['keys'],
          body: bootstrapBody,
          response: { 201: createdApiKey, 401: errorBody, 403: errorBody, 422: authErrors[422] },
        },
        // The token is checked before the body is validated: without it, a caller learns nothing (401/403 first).
        preValidation: async (request) => {
          const header = bearerToken(request.headers.authorization);
          const body = request.body as { bootstrap_token?: unknown } | null | undefined;
          const inBody = typeof body?.bootstrap_token === 'string' ? body.bootstrap_token : undefined;
          app.auth.checkBootstrapToken(app.config.bootstrapToken, header ?? inBody);
        },
      },
      async (request, reply) => {
        const key = await app.auth.createMasterKey({
          userId: request.body.user_id,
          projectId: request.body.project_id,
          label: request.body.key_label,
          environment: request.body.environment,
        });
        return reply.code(201).send({ ...wire(key), api_key: key.api_key });
      },
    );
  }

  for (const url of PATHS.apiKeys) {
    app.get(
      url,
      {
        config: { scope: 'keys:manage' },
        schema: { summary: 'List the keys of the current project', tags: ['keys'], response: { 200: z.array(apiKeyInfo), ...authErrors } },
      },
      async (request) => {
        const { principal, project } = requestContext(request);
        return (await app.auth.listKeys(principal, project)).map(wire);
      },
    );

    app.post(
      url,
      {
        config: { scope: 'keys:manage' },
        schema: {
          summary: 'Create a project key (never with a scope the caller lacks)',
          tags: ['keys'],
          body: createKeyBody,
          response: { 201: createdApiKey, ...authErrors },
        },
      },
      async (request, reply) => {
        const { principal, project } = requestContext(request);
        const key = await app.auth.createProjectKey(principal, project, request.body);
        return reply.code(201).send({ ...wire(key), api_key: key.api_key });
      },
    );
  }

  const revoke = {
    config: { scope: 'keys:manage' as const },
    schema: {
      summary: 'Revoke a key; it fails with 401 from the next request on',
      tags: ['keys'],
      params: idParams,
      response: { 200: apiKeyInfo, 404: errorBody, ...authErrors },
    },
  };
  const revokeHandler = async (request: { params: { id: string } } & Parameters<typeof requestContext>[0]) => {
    const { principal, project } = requestContext(request);
    return wire(await app.auth.revokeKey(principal, project, request.params.id));
  };
  for (const url of PATHS.apiKey) app.delete(url, revoke, revokeHandler);
  for (const url of PATHS.apiKeyRevoke) app.post(url, revoke, revokeHandler);
};

export default apiKeyRoutes;
