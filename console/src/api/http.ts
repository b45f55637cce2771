import { session } from './session.ts';

/** An error answer in the contract's shape `{detail, code}`; 422 details are lists of issues. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: unknown,
  ) {
    super(describe(status, detail));
  }
}

function describe(status: number, detail: unknown): string {
  if (Array.isArray(detail)) {
    return detail.map((i: { loc?: unknown[]; msg?: string }) => `${(i.loc ?? []).slice(1).join('.') || 'input'}: ${i.msg ?? 'invalid'}`).join('; ');
  }
  if (typeof detail === 'string' && detail) return detail;
  return status === 0 ? 'The server could not be reached.' : `The server answered ${status}.`;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface Answer<T> {
  data: T;
  status: number;
  headers: Headers;
}

/**
 * One call to the public API with the signed-in key and project. A 401 (revoked or unknown key)
 * signs the console out, whatever page made the call.
 */
export async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown; key?: string } = {}): Promise<Answer<T>> {
  const key = options.key ?? session.key();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const project = session.project();
  if (project && !options.key) headers['x-project-id'] = project;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch {
    throw new ApiError(0, 'network_error', null);
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const body = (data ?? {}) as { detail?: unknown; code?: string };
    if (res.status === 401 && !options.key) session.signOut('Your key was rejected (revoked or unknown). Sign in again.');
    throw new ApiError(res.status, body.code ?? 'error', body.detail);
  }
  return { data: data as T, status: res.status, headers: res.headers };
}
