import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.js';
import { SLOW_MS } from '../support/process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reflect-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keys, projects and traces survive closing the app and opening the same data directory', async () => {
  const first = await buildTestApp({ REFLECT_DATA_DIR: dir });
  let master: string;
  let projectKey: string;
  let traceId: string;
  let revokedKey: string;
  try {
    master = await first.masterKey('persist-user', 'kept');
    const created = await first.call(master, { method: 'POST', url: '/v1/api-keys', project: 'kept', payload: { label: 'agent', scopes: ['traces:read', 'traces:write'] } });
    projectKey = created.json().api_key;
    const revoked = await first.call(master, { method: 'POST', url: '/v1/api-keys', project: 'kept', payload: { label: 'old', scopes: ['traces:read'] } });
    revokedKey = revoked.json().api_key;
    expect((await first.call(master, { method: 'DELETE', url: `/v1/api-keys/${revoked.json().id}`, project: 'kept' })).statusCode).toBe(200);
    const trace = await first.call(projectKey, {
      method: 'POST',
      url: '/v1/traces',
      payload: { task: 'remember me', trajectory: [{ role: 'assistant', content: 'done' }], metadata: { run: 7 } },
    });
    expect(trace.statusCode).toBe(202);
    traceId = trace.json().id;
  } finally {
    await first.close();
  }

  const second = await buildTestApp({ REFLECT_DATA_DIR: dir });
  try {
    expect(await second.count('traces')).toBe(1);
    const got = await second.call(projectKey, { method: 'GET', url: `/v1/traces/${traceId}` });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: traceId, task: 'remember me', final_response: 'done', metadata: { run: 7 } });
    const listed = await second.call(master, { method: 'GET', url: '/v1/traces', project: 'kept' });
    expect(listed.json().map((t: { id: string }) => t.id)).toEqual([traceId]);
    expect((await second.call(revokedKey, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(401);
  } finally {
    await second.close();
  }
}, SLOW_MS);
