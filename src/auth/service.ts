import {
  ensureProject,
  ensureUser,
  findApiKey,
  findKeyByKeyId,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  type KeyWithProject,
} from '../db/accounts.js';
import type { Db } from '../db/client.js';
import type { ProjectRow } from '../db/schema.js';
import { forbidden, notFound, unauthorized } from '../http/errors.js';
import { bearerToken, mintKey, parseKey, SCOPES, secretMatches, tokenMatches, type Environment, type Scope } from './apiKeys.js';

/** Who is calling: resolved from the API key on every request (revocation is never cached). */
export interface Principal {
  keyRowId: string;
  /** The key's label: with keyRowId, who made a change (memory history). */
  label: string;
  userId: string;
  isMaster: boolean;
  scopes: Scope[];
  /** The project the key is bound to, read with the key. */
  keyProject: ProjectRow;
  lastUsedAt: Date | null;
}

/** The wire shape of a key (`ApiKeyInfo`); `user_id` and `project_id` are the names the caller chose. */
export interface ApiKeyInfo {
  id: string;
  label: string;
  key_prefix: string;
  environment: string;
  scopes: string[];
  is_master: boolean;
  user_id: string;
  project_id: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
export type CreatedApiKey = ApiKeyInfo & { api_key: string };

export function toApiKeyInfo({ key, projectSlug, userExternalId }: KeyWithProject): ApiKeyInfo {
  return {
    id: key.id,
    label: key.label,
    key_prefix: `rf_${key.environment}_${key.keyId}`,
    environment: key.environment,
    scopes: key.scopes,
    is_master: key.isMaster,
    user_id: userExternalId,
    project_id: projectSlug,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    revoked_at: key.revokedAt,
  };
}

export const DEFAULT_PROJECT = 'default';

export function createAuthService(db: Db) {
  async function mint(
    userId: string,
    project: ProjectRow,
    userExternalId: string,
    input: { label: string; environment: Environment; scopes: Scope[]; isMaster: boolean },
  ): Promise<CreatedApiKey> {
    const minted = mintKey(input.environment);
    const key = await insertApiKey(db, {
      keyId: minted.keyId,
      label: input.label,
      environment: input.environment,
      secretHash: minted.secretHash,
      scopes: input.scopes,
      isMaster: input.isMaster,
      userId,
      projectId: project.id,
    });
    return { ...toApiKeyInfo({ key, projectSlug: project.slug, userExternalId }), api_key: minted.plaintext };
  }

  return {
    /** Reads `Authorization: Bearer` or `X-API-Key`; any failure is the same 401 (no oracle). */
    async authenticate(headers: Record<string, string | string[] | undefined>): Promise<Principal> {
      const plaintext = presentedKey(headers);
      if (!plaintext) throw unauthorized('Missing API key: send "Authorization: Bearer <key>"');
      const parsed = parseKey(plaintext);
      if (!parsed) throw unauthorized('Malformed API key');
      const found = await findKeyByKeyId(db, parsed.keyId);
      if (!found || !secretMatches(parsed.secret, found.key.secretHash) || found.key.environment !== parsed.environment) {
        throw unauthorized('Invalid API key');
      }
      if (found.key.revokedAt) throw unauthorized('API key has been revoked');
      return {
        keyRowId: found.key.id,
        label: found.key.label,
        userId: found.key.userId,
        isMaster: found.key.isMaster,
        scopes: found.key.isMaster ? [...SCOPES] : (found.key.scopes as Scope[]),
        keyProject: found.project,
        lastUsedAt: found.key.lastUsedAt,
      };
    },

    requireScope(principal: Principal, scope: Scope): void {
      if (!principal.scopes.includes(scope)) throw forbidden(`API key lacks the scope "${scope}"`);
    },

    /**
     * The project a request acts on. Without a header: the key's own project, or `default` for a
     * master key. A master key naming a missing project creates it; a project key may only name its own.
     */
    async resolveProject(principal: Principal, requested: string | undefined): Promise<ProjectRow> {
      const own = principal.keyProject;
      if (principal.isMaster) {
        const slug = requested ?? DEFAULT_PROJECT;
        // Usually the key's own project, which came with the key: no second query.
        return slug === own.slug && own.ownerUserId === principal.userId ? own : ensureProject(db, principal.userId, slug);
      }
      if (requested !== undefined && requested !== own.slug) throw forbidden('This API key is bound to another project');
      return own;
    },

    /** A master key for a user, creating user and project as needed (bootstrap, CLI, first start). */
    async createMasterKey(input: { userId: string; projectId: string; label: string; environment: Environment }) {
      const userId = await ensureUser(db, input.userId);
      const project = await ensureProject(db, userId, input.projectId);
      return mint(userId, project, input.userId, {
        label: input.label,
        environment: input.environment,
        scopes: [...SCOPES],
        isMaster: true,
      });
    },

    async createProjectKey(
      principal: Principal,
      project: ProjectRow,
      input: { label: string; scopes: Scope[]; environment: Environment },
    ): Promise<CreatedApiKey> {
      const missing = input.scopes.filter((s) => !principal.scopes.includes(s));
      if (missing.length) throw forbidden(`Cannot grant scopes this key does not have: ${missing.join(', ')}`);
      const owner = await findApiKey(db, principal.keyRowId);
      return mint(principal.userId, project, owner!.userExternalId, {
        label: input.label,
        environment: input.environment,
        scopes: [...new Set(input.scopes)],
        isMaster: false,
      });
    },

    async listKeys(principal: Principal, project: ProjectRow): Promise<ApiKeyInfo[]> {
      const rows = await listApiKeys(db, project.id, principal.isMaster ? principal.userId : undefined);
      return rows.map(toApiKeyInfo);
    },

    async revokeKey(principal: Principal, project: ProjectRow, id: string): Promise<ApiKeyInfo> {
      const found = await findApiKey(db, id);
      const visible =
        found &&
        (found.key.projectId === project.id ||
          (principal.isMaster && found.key.isMaster && found.key.userId === principal.userId));
      if (!visible) throw notFound('API key');
      // A master key bound to this project is listed here, but only a master key may revoke one.
      if (found.key.isMaster && !principal.isMaster) throw forbidden('Only a master key can revoke a master key');
      await revokeApiKey(db, id);
      return toApiKeyInfo((await findApiKey(db, id))!);
    },

    /** 403 when bootstrap is disabled, 401 for a wrong or missing token. */
    checkBootstrapToken(configured: string | undefined, given: string | undefined): void {
      if (!configured) throw forbidden('Bootstrap is disabled: set REFLECT_BOOTSTRAP_TOKEN to enable it');
      if (!given || !tokenMatches(given, configured)) throw unauthorized('Invalid bootstrap token');
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const fromBearer = typeof headers.authorization === 'string' ? bearerToken(headers.authorization) : undefined;
  if (fromBearer) return fromBearer;
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}
