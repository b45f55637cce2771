import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthService } from '../../src/auth/service.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { eventually } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { chatRequestsAbout, llmEnv } from '../support/learning.js';
import { skipRedis, startRedis, type RedisServer } from '../support/redis.js';
import { http, killAllServerProcesses, startServerProcess, type ServerProcess } from '../support/serverProcess.js';

// Scale-out without Docker: `reflect-server api` ×2 and `reflect-server worker` ×2 as child
// processes on one Redis and one PostgreSQL (the embedded engine this test process hosts,
// reached over its socket through DATABASE_URL), the fake LLM answering slowly so jobs are in
// flight. The sweeper (the safety net for jobs the queue lost) only runs as a worker starts, so
// that it cannot hide a loss: what a killed or stopped worker held must come back through the queue.

const CONCURRENCY = 8;
const ALPHA = 0.3;
const SHUTDOWN_TIMEOUT_MS = 15_000;
const TEST_MS = 120_000;

type Outcome = { kind: 'accepted'; id: string } | { kind: 'unavailable' } | { kind: 'refused'; code: string };

describe.skipIf(skipRedis())('scale-out: two API and two worker processes on one Redis and one PostgreSQL', () => {
  let fake: FakeOpenAI;
  let redis: RedisServer;
  let database: Database;
  let key: string;
  let env: Record<string, string>;
  /** The memory some reviews retrieved, and each such review's reward: its Q-history must be a chain of them all. */
  let shared: string;
  const retrievers = new Map<string, number>();
  const apis: ServerProcess[] = [];
  const workers: ServerProcess[] = [];

  const startProcess = (role: 'api' | 'worker') => startServerProcess(['bin/reflect-server.mjs', role], env);
  const sql = async <T = any>(text: string, values: unknown[] = []): Promise<T[]> => (await database.pool.query(text, values)).rows as T[];

  beforeAll(async () => {
    [fake, redis, database] = await Promise.all([startFakeOpenAI({ latencyMs: 200 }), startRedis(), openDatabase({ dataDir: 'memory://' })]);
    await runMigrations(database.pool);
    key = (await createAuthService(database.db).createMasterKey({ userId: 'scale-user', projectId: 'default', label: 'scale-out', environment: 'live' })).api_key;
    env = {
      ...llmEnv(fake),
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REFLECT_JOB_LOCK_MS: '1000',
      REFLECT_WORKER_CONCURRENCY: String(CONCURRENCY),
      REFLECT_INGEST_BACKOFF_MS: '50',
      REFLECT_SWEEP_INTERVAL_MS: '600000',
      REFLECT_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    };
    const started = await Promise.all([startProcess('api'), startProcess('api'), startProcess('worker'), startProcess('worker')]);
    apis.push(...started.slice(0, 2));
    workers.push(...started.slice(2));
    const memory = await http(apis[0]!, key, 'POST', '/v1/memories', { task: 'Shared lesson', reflection: 'Check the dates first.' });
    expect(memory.status).toBe(201);
    shared = memory.json.id;
  }, TEST_MS);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop()));
    await killAllServerProcesses();
    await database?.close();
    await redis?.close();
    await fake?.close();
  });

  /** POST /v1/traces; a refused or reset connection and the drain 503 are outcomes, anything else fails. */
  async function post(server: ServerProcess, body: object): Promise<Outcome> {
    let res: Response;
    try {
      res = await fetch(`${server.baseUrl}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      const code = String((err as { cause?: { code?: string } }).cause?.code);
      if (['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(code)) return { kind: 'refused', code };
      throw err;
    }
    const json = (await res.json()) as { id: string };
    if (res.status === 202) return { kind: 'accepted', id: json.id };
    // While draining: the contract's error shape, never Fastify's own.
    expect({ status: res.status, json }).toEqual({ status: 503, json: { detail: expect.any(String), code: 'shutting_down' } });
    return { kind: 'unavailable' };
  }

  /** Review i of a run: pass or fail; every 4th one retrieved the shared memory. */
  function traceBody(run: string, i: number) {
    return {
      task: `${run}: task ${i}`,
      trajectory: [{ role: 'user', content: `Question ${i}` }, { role: 'assistant', content: `Answer ${i}` }],
      retrieved_memory_ids: i % 4 === 0 ? [shared] : [],
      review_result: i % 3 === 0 ? 'fail' : 'pass',
      alpha: ALPHA,
      metadata: { run },
    };
  }

  function accepted(outcome: Outcome, body: ReturnType<typeof traceBody>, ids: string[]): void {
    if (outcome.kind !== 'accepted') return;
    ids.push(outcome.id);
    if (body.retrieved_memory_ids.length) retrievers.set(outcome.id, body.review_result === 'pass' ? 1 : 0);
  }

  /** `count` reviewed traces spread over the API processes, 8 requests at a time; `ids` fills as they are accepted. */
  function submit(run: string, count: number) {
    const ids: string[] = [];
    let next = 0;
    const done = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          const body = traceBody(run, i);
          const outcome = await post(apis[i % apis.length]!, body);
          expect(outcome).toMatchObject({ kind: 'accepted' });
          accepted(outcome, body, ids);
        }
      }),
    );
    return { ids, done };
  }

  const processing = async (ids: string[]) =>
    (await sql<{ n: number }>("select count(*)::int as n from traces where id = any($1::uuid[]) and ingest_status = 'processing'", [ids]))[0]!.n;

  const completed = async (ids: string[]) =>
    (await sql<{ n: number }>("select count(*)::int as n from traces where id = any($1::uuid[]) and ingest_status = 'completed'", [ids]))[0]!.n;

  /** Until every trace is completed; a failed one ends the wait at once. */
  async function allCompleted(ids: string[], timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        const [row] = await sql(
          "select count(*) filter (where ingest_status = 'completed')::int as done, count(*) filter (where ingest_status = 'failed')::int as failed from traces where id = any($1::uuid[])",
          [ids],
        );
        if (row.failed) throw new Error(`${row.failed} traces failed`);
        return row.done === ids.length ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /**
   * Each trace reviewed and completed, its lesson in exactly one memory (its own, or a near-duplicate it
   * was consolidated into), the one it names; the run has no other trace.
   */
  async function expectCompletedOnce(run: string, ids: string[]): Promise<void> {
    const rows = await sql(
      `select t.id, t.review_status, t.ingest_status,
              exists(select 1 from memories m where m.id = t.created_memory_id and t.id = any(m.source_trace_ids)) as own_memory,
              (select count(*) from memories m where t.id = any(m.source_trace_ids))::int as memories
         from traces t
        where t.metadata->>'run' = $1`,
      [run],
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    const wrong = rows.filter((r) => r.review_status !== 'reviewed' || r.ingest_status !== 'completed' || !r.own_memory || r.memories !== 1);
    expect(wrong).toEqual([]);
  }

  /**
   * The shared memory has one history row per review that retrieved it, and the rows, in the order
   * they were applied, form a chain: each starts from the previous one's q and applies its own
   * reward; the memory's q is the last one's. A lost or doubled update would break it.
   */
  async function expectQChain(): Promise<void> {
    const rows = await sql('select trace_id, q_before, q_after, reward, alpha from q_value_updates where memory_id = $1 order by created_at', [shared]);
    expect(rows.map((r) => r.trace_id).sort()).toEqual([...retrievers.keys()].sort());
    let q = 0.5;
    const broken: object[] = [];
    for (const r of rows) {
      const after = Math.min(1, Math.max(0, q + ALPHA * (retrievers.get(r.trace_id)! - q)));
      if (r.q_before !== q || Math.abs(r.q_after - after) > 1e-12 || r.alpha !== ALPHA) broken.push({ ...r, expected_before: q, expected_after: after });
      q = r.q_after;
    }
    expect(broken).toEqual([]);
    expect((await sql('select q_value from memories where id = $1', [shared]))[0].q_value).toBe(q);
  }

  it(
    'processes 200 reviewed traces exactly once, with a worker killed -9 mid-run',
    async () => {
      const run = 'scale-200';
      const { ids, done } = submit(run, 200);
      // Midway, with jobs in flight on both workers (one worker holds at most CONCURRENCY claimed
      // traces) and reflection calls in flight at the fake (more received than traces completed).
      await eventually(
        async () => {
          if (ids.length < 60) return undefined;
          const received = chatRequestsAbout(fake, `${run}: task`).length;
          return received > (await completed(ids)) && (await processing(ids)) > CONCURRENCY ? true : undefined;
        },
        30_000,
        10,
      );
      const killed = workers.shift()!;
      expect(await killed.kill()).toEqual({ code: null, signal: 'SIGKILL' });
      // What it held is handed over by the queue itself (its lock expires): every trace claimed at
      // the kill completes before any other worker starts (a starting worker sweeps once).
      const held = (await sql("select id from traces where id = any($1::uuid[]) and ingest_status = 'processing'", [ids])).map((r) => r.id);
      await allCompleted(held, 30_000);

      const [replacement] = await Promise.all([startProcess('worker'), done]);
      workers.push(replacement);
      expect(ids).toHaveLength(200);
      await allCompleted(ids);

      await expectCompletedOnce(run, ids);
      // The killed worker had claimed traces it never finished; another worker took each over.
      const retried = await sql('select id from traces where id = any($1::uuid[]) and ingest_attempts > 1', [ids]);
      expect(retried.length).toBeGreaterThan(0);
      await expectQChain();
      // Both API processes took traces: each logged some of the 200 requests.
      for (const api of apis) expect(api.output()).toContain('"url":"/v1/traces"');
    },
    TEST_MS,
  );

  it(
    'SIGTERM to a worker with jobs in flight: it finishes them, exits 0, and the rest is done by another worker',
    async () => {
      const run = 'sigterm-worker';
      fake.latencyMs = 1_000;
      const { ids, done } = submit(run, 40);
      await done;
      await eventually(async () => ((await processing(ids)) > CONCURRENCY ? true : undefined), 30_000, 10);

      const stopping = workers.shift()!;
      const before = stopping.output().length;
      const exit = await stopping.stop(SHUTDOWN_TIMEOUT_MS + 10_000);
      // 0, not 1: it was done before REFLECT_SHUTDOWN_TIMEOUT_MS (the server's own deadline).
      expect(exit, stopping.output().slice(-2000)).toEqual({ code: 0, signal: null });
      const afterSignal = stopping.output().slice(before);
      expect(afterSignal).toContain('"msg":"review processed"');
      expect(afterSignal).not.toContain('review processing failed');
      fake.latencyMs = 200;

      // Waiting work goes to the remaining worker; a restarted one joins in.
      workers.push(await startProcess('worker'));
      await allCompleted(ids);
      await expectCompletedOnce(run, ids);
      // Jobs held at SIGTERM were finished by their worker, not abandoned and taken over: one attempt each.
      expect(await sql('select id, ingest_attempts from traces where id = any($1::uuid[]) and ingest_attempts <> 1', [ids])).toEqual([]);
      await expectQChain();
    },
    TEST_MS,
  );

  it(
    'SIGTERM to an API process under load: exit 0, later requests refused or 503, every accepted trace completed once',
    async () => {
      const run = 'sigterm-api';
      const [other, stopping] = apis.splice(0, 2) as [ServerProcess, ServerProcess];
      apis.push(other);
      const ids: string[] = [];
      const outcomes: Array<Outcome & { afterExit: boolean }> = [];
      let exited = false;
      let i = 0;
      const senders = Array.from({ length: 4 }, async () => {
        // Each sender keeps going until it has sent one request after the process exited.
        for (;;) {
          const afterExit = exited;
          const body = traceBody(run, i++);
          const outcome = await post(stopping, body);
          outcomes.push({ ...outcome, afterExit });
          accepted(outcome, body, ids);
          if (afterExit) return;
        }
      });

      await eventually(async () => (ids.length >= 20 ? true : undefined), 30_000, 10);
      const exit = await stopping.stop(SHUTDOWN_TIMEOUT_MS + 10_000);
      exited = true;
      expect(exit, stopping.output().slice(-2000)).toEqual({ code: 0, signal: null });
      await Promise.all(senders);

      // After the exit nothing listens; before it, a request either got its 202 or was turned away.
      expect(outcomes.filter((o) => o.afterExit).map((o) => o.kind)).toEqual(['refused', 'refused', 'refused', 'refused']);
      expect(outcomes.filter((o) => o.kind === 'accepted')).toHaveLength(ids.length);
      // The other API process still takes traces.
      const late = traceBody(run, i++);
      const outcome = await post(other, late);
      expect(outcome.kind).toBe('accepted');
      accepted(outcome, late, ids);

      await allCompleted(ids);
      // Exactly the accepted traces exist (no turned-away request left one behind), each completed once.
      await expectCompletedOnce(run, ids);
      await expectQChain();
    },
    TEST_MS,
  );
});
