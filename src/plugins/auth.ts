import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PROJECT_SLUG, PROJECT_SLUG_RULE, type Scope } from '../auth/apiKeys.js';
import { createAuthService, type AuthService, type Principal } from '../auth/service.js';
import { touchApiKey } from '../db/accounts.js';
import type { ProjectRow } from '../db/schema.js';
import { notFound, ValidationError } from '../http/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
  interface FastifyRequest {
    principal: Principal | null;
    project: ProjectRow | null;
  }
  interface FastifyContextConfig {
    /**
     * The scope a route needs; `any` = any valid key (the route checks scopes itself, as MCP
     * does per tool). Routes without one are public (health, docs, bootstrap).
     */
    scope?: Scope | 'any';
    /**
     * The project is the `bank_id` path parameter (Hindsight's bank routes) instead of the
     * X-Project-Id header, resolved by the same rules: a master key creates it, a project key
     * may only name its own (403), a `tenant` other than `default` does not exist (404).
     */
    projectFromBank?: boolean;
    /** The route acts on the key, not on one project (GET /v1/projects): none is resolved or created. */
    keyOnly?: boolean;
  }
}

const TOUCH_INTERVAL_MS = 60_000;

/**
 * Authenticates before the body is read (401/403 come first, right after the rate limit),
 * resolves the project after the body is validated (so a rejected request creates no project),
 * and records `last_used_at` only for requests that succeeded.
 */
export default fp(
  async function auth(app: FastifyInstance) {
    const service = createAuthService(app.database.db);
    app.decorate('auth', service);
    app.decorateRequest('principal', null);
    app.decorateRequest('project', null);

    // A rejected key is only thrown in preParsing: the rate limiter (a route-level onRequest
    // hook, so it runs after this one) must count it too, per address, or invalid keys could
    // hammer the database without limit. Either way the 401/403 comes before the body is read.
    const failures = new WeakMap<FastifyRequest, unknown>();
    app.addHook('onRequest', async (request) => {
      const scope = request.routeOptions.config?.scope;
      if (!scope) return;
      try {
        request.principal = await service.authenticate(request.headers);
        if (scope !== 'any') service.requireScope(request.principal, scope);
      } catch (err) {
        failures.set(request, err);
      }
    });

    app.addHook('preParsing', async (request) => {
      if (failures.has(request)) throw failures.get(request);
    });

    app.addHook('preHandler', async (request) => {
      if (!request.principal || request.routeOptions.config?.keyOnly) return;
      const requested = request.routeOptions.config?.projectFromBank ? requestedBank(request) : requestedProject(request);
      request.project = await service.resolveProject(request.principal, requested);
    });

    app.addHook('onResponse', async (request, reply) => {
      // `last_used_at` has minute resolution: a key used within the minute needs no write.
      const lastUsed = request.principal?.lastUsedAt?.getTime() ?? 0;
      if (request.principal && reply.statusCode < 400 && Date.now() - lastUsed > TOUCH_INTERVAL_MS) {
        await touchApiKey(app.database.db, request.principal.keyRowId).catch((err) =>
          request.log.warn({ err }, 'could not record last_used_at'),
        );
      }
    });
  },
  { name: 'auth', dependencies: ['database'] },
);

function requestedProject(request: FastifyRequest): string | undefined {
  const raw = request.headers['x-project-id'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value || !PROJECT_SLUG.test(value)) {
    throw new ValidationError([
      {
        loc: ['header', 'x-project-id'],
        msg: `Project id must be ${PROJECT_SLUG_RULE}`,
        type: 'invalid_format',
      },
    ]);
  }
  return value;
}

/** The slug was validated with the route's params; the tenant is checked here, before any project is created. */
function requestedBank(request: FastifyRequest): string {
  const params = request.params as { tenant?: string; bank_id: string };
  if (params.tenant !== undefined && params.tenant !== 'default') throw notFound(`Tenant "${params.tenant}"`);
  return params.bank_id;
}

/** The authenticated caller of a route that declared a scope. */
export function requestPrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route has no scope: no principal');
  return request.principal;
}

/** The authenticated caller and project of a route that declared a scope. */
export function requestContext(request: FastifyRequest): { principal: Principal; project: ProjectRow } {
  if (!request.principal || !request.project) throw new Error('route has no scope: no principal or project');
  return { principal: request.principal, project: request.project };
}
