import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { defaultChat, startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { llmEnv, uniqueTask } from '../support/learning.js';
import { http, killAllServerProcesses, startServerProcess, type ServerProcess } from '../support/serverProcess.js';

// The server killed -9 while a merge's LLM call is in flight (the fake never answers it) must,
// once it runs again, merge that run exactly once: one memory, evidence 2, one merge in history.

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await killAllServerProcesses();
  await fake.close();
});

const isMerge = (r: { path: string; body: unknown }) =>
  r.path === '/v1/chat/completions' &&
  String((r.body as ChatRequestBody | undefined)?.messages?.find((m) => m.role === 'system')?.content ?? '').includes('Two runs of nearly the same task');

describe('consolidation: the whole server killed mid-merge and restarted', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-merge-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('merges the run once after the restart', async () => {
    const env = { ...llmEnv(fake), REFLECT_DATA_DIR: dataDir, REFLECT_SWEEP_INTERVAL_MS: '200', REFLECT_INGEST_BACKOFF_MS: '50' };
    let server: ServerProcess = await startServerProcess(['src/server.ts'], env);
    const key = await eventually(async () => server.firstKey);
    const task = uniqueTask('Merge mid-crash');
    const submit = async () => {
      const created = await http(server, key, 'POST', '/v1/traces', { task, trajectory: 'x', review_result: 'pass' });
      expect(created.status).toBe(202);
      return created.json.id as string;
    };
    const reviewed = (id: string) =>
      eventually(async () => {
        const res = await http(server, key, 'GET', `/v1/traces/${id}`);
        return res.json.review_status === 'reviewed' ? res.json : undefined;
      }, 30_000);

    const first = await reviewed(await submit());
    // The second run's reflection is answered; its merge call hangs.
    fake.enqueue((body) => defaultChat(body), { hang: true });
    const secondId = await submit();
    await eventually(async () => (fake.requests.filter(isMerge).length === 1 ? true : undefined));
    await server.kill();

    server = await startServerProcess(['src/server.ts'], env);
    try {
      const second = await reviewed(secondId);
      expect(second).toMatchObject({ ingest_status: 'completed', ingest_attempts: 2, created_memory_id: first.created_memory_id });
      expect(fake.requests.filter(isMerge)).toHaveLength(2);
      const memory = (await http(server, key, 'GET', `/v1/memories/${first.created_memory_id}`)).json;
      expect(memory).toMatchObject({ evidence_count: 2, source_trace_ids: [first.id, secondId] });
      const history = (await http(server, key, 'GET', `/v1/memories/${first.created_memory_id}/history`)).json as { kind: string }[];
      expect(history.filter((h) => h.kind === 'merge')).toHaveLength(1);
      const all = (await http(server, key, 'GET', '/v1/memories?limit=500')).json as { task: string }[];
      expect(all.filter((m) => m.task === task)).toHaveLength(1);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
