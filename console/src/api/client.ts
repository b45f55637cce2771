/**
 * The console's handle on the typed client generated from the server's OpenAPI document
 * (client/, the same one agents import as `reflect-server/client`), bound to the signed-in key
 * and project. Any 401 signs the console out.
 */
import { ReflectClient, type components, type paths } from '../../../client/index.ts';
import { ApiError } from './errors.ts';
import { session } from './session.ts';

export type { components, paths };
export type Schemas = components['schemas'];

let current: { key: string; project: string | null; client: ReflectClient } | null = null;

/** The client for the signed-in key, or for `key` (checking a key before signing in with it). */
export function reflect(key?: string): ReflectClient {
  if (key) return create(key, null, false);
  const signedIn = session.key() ?? '';
  const project = session.project();
  if (!current || current.key !== signedIn || current.project !== project) current = { key: signedIn, project, client: create(signedIn, project, true) };
  return current.client;
}

function create(key: string, project: string | null, signOutOn401: boolean): ReflectClient {
  const client = new ReflectClient({ baseUrl: window.location.origin, apiKey: key, projectId: project ?? undefined });
  if (signOutOn401) {
    client.api.use({
      onResponse({ response }) {
        if (response.status === 401) session.signOut('Your key was rejected (revoked or unknown). Sign in again.');
      },
    });
  }
  return client;
}

/** openapi-fetch's answer as data, headers and status; an error answer as an ApiError. */
export async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; status: number; headers: Headers }> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch {
    throw new ApiError(0, 'network_error', null);
  }
  if (!result.response.ok) {
    const body = (result.error ?? {}) as { detail?: unknown; code?: string };
    throw new ApiError(result.response.status, body.code ?? 'error', body.detail);
  }
  return { data: result.data as T, status: result.response.status, headers: result.response.headers };
}
