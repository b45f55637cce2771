import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqQueue } from '../../src/queue/bullmqQueue.js';
import { RetryLaterError, type IngestJob, type JobQueue, type WorkerOptions } from '../../src/queue/jobQueue.js';
import { eventually } from '../support/app.js';
import { skipRedis, startRedis, type RedisServer } from '../support/redis.js';

const options: WorkerOptions = { concurrency: 2, maxAttempts: 3, backoffMs: 60, lockMs: 2_000 };
/** Node timers can fire a millisecond or two before Date.now() shows the delay as passed. */
const SLACK_MS = 5;
const job = (n: number, round = 0): IngestJob => ({ traceId: `trace-${n}`, round });

describe.skipIf(skipRedis())('BullMQ job queue on a real Redis', () => {
  let redis: RedisServer;
  let db = 0;
  const open: JobQueue[] = [];
  /** A queue on a Redis database of its own, so tests cannot see each other's jobs. */
  const newQueue = (maxAttempts = options.maxAttempts, database = db) => {
    const queue = createBullmqQueue(`${redis.url}/${database}`, () => {}, { maxAttempts });
    open.push(queue);
    return queue;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((q) => q.close()));
    db += 1;
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('runs a job enqueued twice once, and reports it live until it is done', async () => {
    const queue = newQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: IngestJob[] = [];
    expect(await queue.enqueue(job(1))).toBe(true);
    expect(await queue.enqueue(job(1))).toBe(true);
    expect(await queue.hasLiveJob(job(1))).toBe(true);
    expect(await queue.depth()).toBe(1);
    queue.startWorker(async (j) => {
      calls.push(j);
      await gate;
    }, options);
    await eventually(async () => (calls.length === 1 ? true : undefined));
    expect(await queue.enqueue(job(1))).toBe(true);
    expect(await queue.hasLiveJob(job(1))).toBe(true);
    release();
    await eventually(async () => ((await queue.hasLiveJob(job(1))) ? undefined : true));
    expect(calls).toEqual([job(1)]);
    expect(await queue.hasLiveJob(job(2))).toBe(false);
  });

  it('backs off exponentially, and at least RetryLaterError.retryAfterMs', async () => {
    const queue = newQueue();
    const times = new Map<string, number[]>();
    queue.startWorker(async ({ traceId }) => {
      const seen = times.get(traceId) ?? [];
      seen.push(Date.now());
      times.set(traceId, seen);
      if (traceId === 'trace-1' && seen.length < 3) throw new Error('transient');
      if (traceId === 'trace-2' && seen.length < 2) throw new RetryLaterError('rate limited', 700);
    }, options);
    await queue.enqueue(job(1));
    await queue.enqueue(job(2));
    await eventually(async () => ((await queue.depth()) === 0 && times.get('trace-1')?.length === 3 && times.get('trace-2')?.length === 2 ? true : undefined));
    const [a, b, c] = times.get('trace-1')!;
    expect(b! - a!).toBeGreaterThanOrEqual(options.backoffMs - SLACK_MS);
    expect(c! - b!).toBeGreaterThanOrEqual(2 * options.backoffMs - SLACK_MS);
    const [x, y] = times.get('trace-2')!;
    expect(y! - x!).toBeGreaterThanOrEqual(700 - SLACK_MS);
  });

  it('caps attempts from the configuration even when the producer never starts a worker', async () => {
    // An API-only process enqueues; a worker process runs the job. The processor normally ends
    // a trace itself at maxAttempts; BullMQ's own cap (2 spare attempts) is the safety net.
    const producer = newQueue(1);
    const worker = newQueue(1, db);
    let calls = 0;
    worker.startWorker(async () => {
      calls++;
      throw new Error('never recorded');
    }, { ...options, maxAttempts: 1, backoffMs: 10 });
    await producer.enqueue(job(7));
    await eventually(async () => (calls >= 3 && !(await producer.hasLiveJob(job(7))) ? true : undefined));
    expect(calls).toBe(3);
  });

  it('enqueue answers false instead of failing while Redis is down, and works again after', async () => {
    const queue = newQueue();
    const calls: string[] = [];
    queue.startWorker(async ({ traceId }) => void calls.push(traceId), options);
    await redis.stop();
    try {
      expect(await queue.enqueue(job(1))).toBe(false);
      expect(await queue.isReady()).toBe(false);
    } finally {
      await redis.start();
    }
    await eventually(async () => ((await queue.isReady()) ? true : undefined));
    // Right after a reconnect a call can still fail once (the connection settles); the trace
    // would then wait for the sweeper. It must succeed again soon after.
    await eventually(async () => ((await queue.enqueue(job(2))) ? true : undefined));
    await eventually(async () => (calls.includes('trace-2') ? true : undefined));
    // trace-1 may have run too: a command sent just before the connection noticed Redis was gone
    // can be resent on reconnect. Harmless: the sweeper's later enqueue of it would be a no-op.
    expect(calls.filter((id) => id === 'trace-2')).toHaveLength(1);
  });

  it('recovers when Redis failed it while it was setting up (a Queue that BullMQ leaves broken)', async () => {
    // BullMQ checks the Redis version once per connection; if that fails (here: INFO denied, as
    // when Redis goes away at that moment), its Queue rejects every later call, for good.
    const admin = new Redis(`${redis.url}/${db}`);
    await admin.call('ACL', 'SETUSER', 'default', '-info');
    try {
      const queue = newQueue();
      expect(await queue.enqueue(job(1))).toBe(false);
      await admin.call('ACL', 'SETUSER', 'default', '+info');
      expect(await queue.enqueue(job(1))).toBe(true);
      expect(await queue.hasLiveJob(job(1))).toBe(true);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', '+info');
      await admin.quit();
    }
  });

  it('close() lets a running job finish', async () => {
    const queue = newQueue();
    let finished = false;
    let started = false;
    queue.startWorker(async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    }, options);
    await queue.enqueue(job(1));
    await eventually(async () => (started ? true : undefined));
    await queue.close();
    expect(finished).toBe(true);
  });
});
