import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedQueue } from '../../src/queue/embeddedQueue.js';
import { RetryLaterError, type IngestJob, type JobQueue, type WorkerOptions } from '../../src/queue/jobQueue.js';
import { eventually } from '../support/app.js';

const options: WorkerOptions = { concurrency: 2, maxAttempts: 3, backoffMs: 40, lockMs: 1_000 };
/** Node timers can fire a millisecond or two before Date.now() shows the delay as passed. */
const SLACK_MS = 5;
const job = (n: number, round = 0): IngestJob => ({ traceId: `trace-${n}`, round });

/** A promise to resolve from outside. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let queue: JobQueue;
afterEach(async () => {
  await queue?.close();
});

describe('embedded job queue', () => {
  it('runs at most `concurrency` jobs at once, and all of them in the end', async () => {
    queue = createEmbeddedQueue();
    const waiting: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    queue.startWorker(async ({ traceId }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => waiting.push(resolve));
      running--;
      done.push(traceId);
    }, options);

    for (let n = 0; n < 6; n++) expect(await queue.enqueue(job(n))).toBe(true);
    expect(await queue.depth()).toBe(6);
    await eventually(async () => (waiting.length === 2 ? true : undefined));
    while (done.length < 6) {
      await eventually(async () => (waiting.length > 0 || done.length === 6 ? true : undefined));
      expect(running).toBeLessThanOrEqual(2);
      waiting.shift()?.();
    }
    expect(peak).toBe(2);
    expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5].map((n) => `trace-${n}`));
    expect(await queue.depth()).toBe(0);
  });

  it('treats enqueueing a waiting or running job again as a no-op, but not a new round', async () => {
    queue = createEmbeddedQueue();
    const calls: IngestJob[] = [];
    const gate = deferred();
    // Enqueued before the worker starts: waits, then runs.
    await queue.enqueue(job(1));
    await queue.enqueue(job(1));
    expect(await queue.depth()).toBe(1);
    queue.startWorker(async (j) => {
      calls.push(j);
      await gate.promise;
    }, options);
    await eventually(async () => (calls.length === 1 ? true : undefined));
    expect(await queue.hasLiveJob(job(1))).toBe(true);
    expect(await queue.enqueue(job(1))).toBe(true);
    expect(await queue.enqueue(job(1, 1))).toBe(true);
    gate.resolve();
    await eventually(async () => ((await queue.depth()) === 0 ? true : undefined));
    expect(calls).toEqual([job(1), job(1, 1)]);
    expect(await queue.hasLiveJob(job(1))).toBe(false);

    // Once finished, the same job can be enqueued (and run) again.
    await queue.enqueue(job(1));
    await eventually(async () => (calls.length === 3 ? true : undefined));
  });

  it('retries a failed job with exponential backoff, up to maxAttempts', async () => {
    queue = createEmbeddedQueue();
    const times: number[] = [];
    queue.startWorker(async () => {
      times.push(Date.now());
      throw new Error('boom');
    }, options);
    await queue.enqueue(job(1));
    await eventually(async () => ((await queue.hasLiveJob(job(1))) ? undefined : true));
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(options.backoffMs - SLACK_MS);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(2 * options.backoffMs - SLACK_MS);
  });

  it('waits at least RetryLaterError.retryAfterMs before the next attempt', async () => {
    queue = createEmbeddedQueue();
    const times: number[] = [];
    queue.startWorker(async () => {
      times.push(Date.now());
      if (times.length === 1) throw new RetryLaterError('rate limited', 400);
    }, options);
    await queue.enqueue(job(1));
    await eventually(async () => (times.length === 2 ? true : undefined));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(400 - SLACK_MS);
    await eventually(async () => ((await queue.hasLiveJob(job(1))) ? undefined : true));
  });

  it('close() waits for running jobs, drops waiting and retrying ones, and refuses new work', async () => {
    queue = createEmbeddedQueue();
    const gate = deferred();
    const started: string[] = [];
    const finished: string[] = [];
    queue.startWorker(
      async ({ traceId }) => {
        started.push(traceId);
        if (traceId === 'trace-3') throw new Error('retry me later');
        await gate.promise;
        finished.push(traceId);
      },
      { ...options, concurrency: 1, backoffMs: 50 },
    );
    await queue.enqueue(job(3));
    await eventually(async () => (started.includes('trace-3') ? true : undefined));
    await queue.enqueue(job(1));
    await queue.enqueue(job(2));
    await eventually(async () => (started.includes('trace-1') ? true : undefined));

    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toEqual(['trace-1']);
    expect(await queue.enqueue(job(4))).toBe(false);
    expect(await queue.isReady()).toBe(false);
    // Neither the waiting job nor the one in backoff runs after close.
    await new Promise((r) => setTimeout(r, 150));
    expect(started).toEqual(['trace-3', 'trace-1']);
  });
});
