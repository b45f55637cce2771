import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { chatRequestsAbout, llmEnv, uniqueTask } from '../support/learning.js';
import { skipRedis, startRedis, type RedisServer } from '../support/redis.js';
import { http, killAllServerProcesses, startServerProcess, type ServerProcess } from '../support/serverProcess.js';

// A worker killed -9 while the LLM call of a job is in flight (the fake never answers it) must,
// once a worker runs again, finish that trace exactly once: one memory, one Q-update.

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await killAllServerProcesses();
  await fake.close();
});

/** Two server starts (the first one initialises a data dir) take a while on a busy 2-core machine. */
const CHILD_PROCESS_TEST_MS = 120_000;

const common = () => ({ ...llmEnv(fake), REFLECT_SWEEP_INTERVAL_MS: '200', REFLECT_INGEST_BACKOFF_MS: '50' });

describe('embedded transport: the whole server killed mid-job and restarted', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('completes the trace once after the restart', async () => {
    const env = { ...common(), REFLECT_DATA_DIR: dataDir };
    let server: ServerProcess = await startServerProcess(['src/server.ts'], env);
    const key = await eventually(async () => server.firstKey);

    const memory = await http(server, key, 'POST', '/v1/memories', { task: 'Shared lesson', reflection: 'Check the dates.' });
    expect(memory.status).toBe(201);
    const task = uniqueTask('Crash mid-job');
    fake.enqueue({ hang: true });
    const created = await http(server, key, 'POST', '/v1/traces', {
      task,
      trajectory: 'x',
      retrieved_memory_ids: [memory.json.id],
      review_result: 'pass',
      alpha: 0.5,
    });
    expect(created.status).toBe(202);
    const id = created.json.id as string;

    // In flight: claimed by the worker, its LLM request received and never answered.
    await eventually(async () => (chatRequestsAbout(fake, task).length === 1 ? true : undefined));
    expect((await http(server, key, 'GET', `/v1/traces/${id}`)).json).toMatchObject({ ingest_status: 'processing', ingest_attempts: 1 });
    await server.kill();

    server = await startServerProcess(['src/server.ts'], env);
    try {
      const trace = await eventually(async () => {
        const res = await http(server, key, 'GET', `/v1/traces/${id}`);
        return res.json.review_status === 'reviewed' ? res.json : undefined;
      }, 30_000);
      expect(trace).toMatchObject({ ingest_status: 'completed', ingest_attempts: 2 });
      expect(chatRequestsAbout(fake, task)).toHaveLength(2);

      const memories = (await http(server, key, 'GET', '/v1/memories?limit=100')).json as Array<{ id: string; source_trace_id: string | null; q_value: number }>;
      expect(memories.filter((m) => m.source_trace_id === id).map((m) => m.id)).toEqual([trace.created_memory_id]);
      // Applied once: 0.5 + 0.5 · (1 − 0.5), not 0.875.
      expect(memories.find((m) => m.id === memory.json.id)?.q_value).toBe(0.75);
    } finally {
      await server.stop();
    }
  }, CHILD_PROCESS_TEST_MS);
});

describe.skipIf(skipRedis())('Redis transport: a worker process killed mid-job, another one started', () => {
  let redis: RedisServer;
  let database: Database;
  let api: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    database = await openDatabase({ dataDir: 'memory://' });
    // The API without a worker, in this process; workers are separate processes on the same
    // database (over the embedded engine's socket) and the same Redis.
    api = await buildTestApp({ ...common(), REDIS_URL: redis.url }, { database, role: 'api' });
  });
  afterAll(async () => {
    await api?.close();
    await database?.close();
    await redis?.close();
  });

  it('hands the stalled job to the new worker, which completes it once', async () => {
    const workerEnv = { ...common(), DATABASE_URL: database.url, REDIS_URL: redis.url, REFLECT_JOB_LOCK_MS: '1000' };
    let worker = await startServerProcess(['bin/reflect-server.mjs', 'worker'], workerEnv);
    const key = await api.masterKey();
    const call = (method: string, url: string, payload?: object) => api.call(key, { method: method as 'GET', url, payload });

    const memory = await call('POST', '/v1/memories', { task: 'Shared lesson', reflection: 'Check the dates.' });
    expect(memory.statusCode).toBe(201);
    const task = uniqueTask('Worker crash mid-job');
    fake.enqueue({ hang: true });
    const created = await call('POST', '/v1/traces', {
      task,
      trajectory: 'x',
      retrieved_memory_ids: [memory.json().id],
      review_result: 'fail',
      alpha: 0.5,
    });
    expect(created.statusCode).toBe(202);
    const id = created.json().id as string;

    await eventually(async () => (chatRequestsAbout(fake, task).length === 1 ? true : undefined));
    expect((await call('GET', `/v1/traces/${id}`)).json()).toMatchObject({ ingest_status: 'processing', ingest_attempts: 1 });
    await worker.kill();

    worker = await startServerProcess(['bin/reflect-server.mjs', 'worker'], workerEnv);
    try {
      const trace = await eventually(async () => {
        const res = (await call('GET', `/v1/traces/${id}`)).json();
        return res.review_status === 'reviewed' ? res : undefined;
      }, 30_000);
      expect(trace).toMatchObject({ ingest_status: 'completed', ingest_attempts: 2 });
      expect(chatRequestsAbout(fake, task)).toHaveLength(2);
      const { rows } = await database.pool.query('select id from memories where source_trace_id = $1', [id]);
      expect(rows.map((r) => r.id)).toEqual([trace.created_memory_id]);
      const updates = await database.pool.query('select q_before, q_after from q_value_updates where trace_id = $1', [id]);
      expect(updates.rows).toEqual([{ q_before: 0.5, q_after: 0.25 }]);
      expect((await call('GET', `/v1/memories/${memory.json().id}`)).json().q_value).toBe(0.25);
    } finally {
      await worker.stop();
    }
  }, CHILD_PROCESS_TEST_MS);
});
