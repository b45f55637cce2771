import { describe, expect, it } from 'vitest';
import type { TraceWire } from '../../src/traces/models.js';
import {
  chatRequestsAbout,
  createTrace,
  getMemory,
  memoriesOfTrace,
  uniqueTask,
  useLoopApp,
  useSharedDatabase,
  waitForTrace,
  type LoopFixture,
} from '../support/learning.js';
import { transports } from '../support/redis.js';

/** Node timers can fire a millisecond or two before Date.now() shows the delay as passed. */
const SLACK_MS = 5;
const API_KEY = 'sk-test-DoNotLeakThisKey0123456789';
const BACKOFF_MS = 100;

/** Gaps between consecutive chat requests about `task`, in ms. */
function gaps(f: LoopFixture, task: string): number[] {
  const times = chatRequestsAbout(f.fake, task).map((r) => r.at);
  return times.slice(1).map((t, i) => t - times[i]!);
}

async function reviewed(f: LoopFixture, task: string): Promise<TraceWire> {
  const id = await createTrace(f, { task, trajectory: [{ role: 'assistant', content: 'answer' }], review_result: 'fail', feedback_text: 'wrong' });
  return waitForTrace(f, id);
}

const database = useSharedDatabase();

describe.each(transports())('LLM failures while processing a review ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, {
    database,
    env: {
      OPENAI_API_KEY: API_KEY,
      REFLECT_INGEST_ATTEMPTS: '3',
      REFLECT_INGEST_BACKOFF_MS: String(BACKOFF_MS),
      REFLECT_LLM_TIMEOUT_MS: '2000',
    },
  });

  it('retries HTTP 500 with exponential backoff and succeeds on the last attempt', async () => {
    const task = uniqueTask('Two server errors');
    f.fake.enqueue({ status: 500 }, { status: 500 });
    const trace = await reviewed(f, task);
    expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', ingest_attempts: 3 });
    // A completed trace shows no error; ingest_attempts still tells how many tries it took.
    expect(trace.last_ingest_error).toBeNull();
    const [first, second] = gaps(f, task);
    expect(first).toBeGreaterThanOrEqual(BACKOFF_MS - SLACK_MS);
    expect(second).toBeGreaterThanOrEqual(2 * BACKOFF_MS - SLACK_MS);
    expect(await memoriesOfTrace(f, trace.id)).toBe(1);
  });

  it('waits at least Retry-After after a 429', async () => {
    const task = uniqueTask('Rate limited');
    f.fake.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    const trace = await reviewed(f, task);
    expect(trace).toMatchObject({ ingest_status: 'completed', ingest_attempts: 2 });
    expect(trace.last_ingest_error).toBeNull();
    expect(gaps(f, task)).toHaveLength(1);
    expect(gaps(f, task)[0]).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
  });

  it('counts two malformed answers as one failed attempt, then succeeds', async () => {
    const task = uniqueTask('Garbage twice');
    f.fake.enqueue({ garbage: 'Sure! Here is your reflection.' }, { garbage: '{"reflection": ' });
    const trace = await reviewed(f, task);
    expect(trace).toMatchObject({ ingest_status: 'completed', ingest_attempts: 2 });
    expect(trace.last_ingest_error).toBeNull();
    // The second answer was asked for in the same attempt, with the bad one echoed back.
    expect(chatRequestsAbout(f.fake, task)).toHaveLength(3);
    const memory = await getMemory(f, trace.created_memory_id!);
    expect(memory.reflection).toContain(task);
  });

  it('gives up on a hung request at REFLECT_LLM_TIMEOUT_MS and tries again', async () => {
    const task = uniqueTask('Hung LLM');
    f.fake.enqueue({ hang: true });
    const trace = await reviewed(f, task);
    expect(trace).toMatchObject({ ingest_status: 'completed', ingest_attempts: 2, last_ingest_error: null });
    expect(gaps(f, task)[0]).toBeGreaterThanOrEqual(2_000 - SLACK_MS);
  });

  it('fails after the last attempt, keeps nothing half-done, and a retry completes it once', async () => {
    const task = uniqueTask('Always failing');
    f.fake.enqueue({ status: 503 }, { status: 502 }, { status: 500 });
    const failed = await reviewed(f, task);
    expect(failed).toMatchObject({ ingest_status: 'failed', ingest_attempts: 3, review_status: 'pending', created_memory_id: null });
    expect(failed.last_ingest_error).toContain('HTTP 500');
    expect(chatRequestsAbout(f.fake, task)).toHaveLength(3);
    expect(await memoriesOfTrace(f, failed.id)).toBe(0);

    const retried = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${failed.id}/retry` });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ id: failed.id, ingest_status: 'queued', ingest_attempts: 0 });

    const done = await waitForTrace(f, failed.id);
    // Before: the completed trace still showed the first round's "HTTP 500".
    expect(done).toMatchObject({ ingest_status: 'completed', review_status: 'reviewed', ingest_attempts: 1, last_ingest_error: null });
    expect(await memoriesOfTrace(f, failed.id)).toBe(1);
    expect(chatRequestsAbout(f.fake, task)).toHaveLength(4);

    const again = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${failed.id}/retry` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict' });
  });

  it('retries a 200 whose body is a proxy HTML page like a 5xx, and a retry that completes clears the error', async () => {
    const task = uniqueTask('Proxy page');
    const page = { rawBody: '<html><head><title>Captive portal</title></head><body>Log in first</body></html>' };
    f.fake.enqueue(page, page, page);
    const failed = await reviewed(f, task);
    // Before: failed on the first attempt as "not retryable".
    expect(failed).toMatchObject({ ingest_status: 'failed', ingest_attempts: 3, created_memory_id: null });
    expect(failed.last_ingest_error).toMatch(/not a chat completion: <html>.*Captive portal/);
    expect(gaps(f, task)[0]).toBeGreaterThanOrEqual(BACKOFF_MS - SLACK_MS);

    expect((await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${failed.id}/retry` })).statusCode).toBe(200);
    const done = await waitForTrace(f, failed.id);
    expect(done).toMatchObject({ ingest_status: 'completed', review_status: 'reviewed', ingest_attempts: 1, last_ingest_error: null });
    expect(await memoriesOfTrace(f, failed.id)).toBe(1);
  });

  it('answers 409 to a retry of a trace that has not failed, 404 to an unknown one', async () => {
    const unreviewed = await createTrace(f, { task: uniqueTask('Not failed'), trajectory: 'x' });
    expect((await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${unreviewed}/retry` })).statusCode).toBe(409);
    const unknown = await f.t.call(f.key, { method: 'POST', url: '/v1/traces/00000000-0000-4000-8000-000000000000/retry' });
    expect(unknown.statusCode).toBe(404);
  });

  it('fails at once on 401 (a retry cannot help) and never records the API key', async () => {
    const task = uniqueTask('Bad key');
    f.fake.enqueue({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${API_KEY}. Bearer ${API_KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } },
    });
    const trace = await reviewed(f, task);
    expect(trace).toMatchObject({ ingest_status: 'failed', ingest_attempts: 1, created_memory_id: null });
    expect(trace.last_ingest_error).toContain('HTTP 401');
    expect(trace.last_ingest_error).not.toContain(API_KEY);
    expect(trace.last_ingest_error).not.toContain('DoNotLeak');
    expect(chatRequestsAbout(f.fake, task)).toHaveLength(1);

    const list = await f.t.call(f.key, { method: 'GET', url: '/v1/traces?ingest_status=failed' });
    expect(list.body).not.toContain('DoNotLeak');
  });
});
