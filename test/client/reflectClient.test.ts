/**
 * The client as an agent gets it: built (`npm run build:client`), imported by its package name
 * (`reflect-server/client`, resolved through package.json "exports"), against a real server on a port.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

type ClientModule = typeof import('../../client/index.js');

let t: TestApp;
let baseUrl: string;
let mod: ClientModule;
const BOOTSTRAP_TOKEN = 'client-test-bootstrap-token';

beforeAll(async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.client.json']);
  const specifier = 'reflect-server/client';
  mod = (await import(specifier)) as ClientModule;
  t = await buildTestApp({ REFLECT_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN });
  baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);
afterAll(() => t?.close());

describe('ReflectClient (reflect-server/client)', () => {
  it('bootstraps a key, then runs the SDK flow: health, createTraceAndWait, query, augment, list, review', async () => {
    const { ReflectClient, ReflectApiError } = mod;
    const created = await ReflectClient.bootstrap({ baseUrl, bootstrapToken: BOOTSTRAP_TOKEN, user_id: 'client-user', project_id: 'client-project' });
    expect(created.api_key).toMatch(/^rf_live_/);
    const client = new ReflectClient({ baseUrl, apiKey: created.api_key, projectId: 'client-project' });

    expect(await client.health()).toEqual({ status: 'ok' });

    const trace = await client.createTraceAndWait(
      {
        task: 'Count the orders placed in March',
        trajectory: [
          { role: 'user', content: 'How many orders in March?' },
          { role: 'assistant', content: '1532' },
        ],
        review_result: 'fail',
        feedback_text: 'Missed the WHERE clause on the order date',
      },
      { pollIntervalMs: 50, waitTimeoutMs: 20_000 },
    );
    expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', review: { result: 'fail' } });
    expect(trace.created_memory_id).toEqual(expect.any(String));
    expect(trace.review?.reviewer).toEqual({ key_id: created.id, label: 'Default Admin Key' });

    const memories = await client.queryMemories({ task: 'orders placed in March', limit: 5 });
    expect(memories.map((m) => m.id)).toContain(trace.created_memory_id);
    const augmented = await client.augmentWithMemories({ task: 'orders placed in March' });
    expect(augmented.augmented_task).toContain('Count the orders placed in March');

    const pending = await client.createTrace({ task: 'Later review', trajectory: 'x' });
    expect(await client.waitForTrace(pending.id)).toMatchObject({ id: pending.id, review: null });
    const page = await client.listTracesPage({ limit: 1, include_trajectory: 'false' });
    expect(page.traces.map((tr) => tr.id)).toEqual([pending.id]);
    expect(page.total).toBe(2);
    expect(page.traces[0]!.trajectory).toEqual([]);
    const next = await client.listTraces({ limit: 1, cursor: page.nextCursor });
    expect(next.map((tr) => tr.id)).toEqual([trace.id]);

    const reviewed = await client.reviewTrace(pending.id, { result: 'pass' });
    expect(reviewed.review?.result).toBe('pass');
    const again = await client.reviewTrace(pending.id, { result: 'fail' }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ReflectApiError);
    expect(again).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('manages keys, and a revoked key gets a 401 ReflectApiError', async () => {
    const { ReflectClient, ReflectApiError } = mod;
    const master = new ReflectClient({ baseUrl, apiKey: await t.masterKey('client-keys', 'keys-project'), projectId: 'keys-project' });
    const agentKey = await master.createApiKey({ label: 'agent', scopes: ['traces:read'] });
    expect((await master.listApiKeys()).map((k) => k.label)).toContain('agent');
    const agent = new ReflectClient({ baseUrl, apiKey: agentKey.api_key });
    expect(await agent.listTraces()).toEqual([]);
    expect((await master.revokeApiKey(agentKey.id)).revoked_at).not.toBeNull();
    const error = await agent.listTraces().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReflectApiError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('the raw typed api reaches every endpoint', async () => {
    const { ReflectClient } = mod;
    const client = new ReflectClient({ baseUrl, apiKey: await t.masterKey('client-raw', 'raw') , projectId: 'raw' });
    const { data, response } = await client.api.GET('/v1/projects');
    expect(response.status).toBe(200);
    expect(data!.map((p) => p.slug)).toEqual(['raw']);
  });
});
