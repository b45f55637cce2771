import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ingestJobId, retryDelayMs, type IngestJob, type JobProcessor, type JobQueue, type WorkerOptions } from './jobQueue.js';

const QUEUE_NAME = 'reflect-ingest';
/** A producer call that Redis does not answer within this time is left to the sweeper. */
const ENQUEUE_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * BullMQ on Redis. The producer connection fails fast while Redis is down (no offline queue),
 * so creating a trace never waits for Redis; the worker connection retries forever, as BullMQ
 * requires. Finished jobs are removed: the trace row, not Redis, keeps the outcome.
 */
export function createBullmqQueue(redisUrl: string, onError: (err: Error) => void, ingest: { maxAttempts: number }): JobQueue {
  const producer = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  producer.on('error', onError);
  const newQueue = () => {
    const q = new Queue<IngestJob>(QUEUE_NAME, { connection: producer });
    q.on('error', onError);
    return q;
  };
  let queue = newQueue();

  /**
   * BullMQ sets a connection up once (version check) and, if Redis goes away during that, the
   * Queue rejects every later call even after Redis is back: traces would stay queued until a
   * restart. Such a Queue is replaced by a new one on the same (self-reconnecting) connection.
   */
  async function usableQueue(): Promise<Queue<IngestJob>> {
    const current = queue;
    const broken = await current.waitUntilReady().then(
      () => false,
      () => true,
    );
    if (!broken) return current;
    if (queue === current) {
      queue = newQueue();
      void current.close().catch(() => undefined);
    }
    await queue.waitUntilReady();
    return queue;
  }

  let worker: Worker<IngestJob> | undefined;
  let workerConnection: Redis | undefined;
  // Known at construction: an API-only process enqueues without ever starting a worker.
  const attempts = ingest.maxAttempts;

  return {
    kind: 'redis',
    async enqueue(job) {
      try {
        await withTimeout(
          usableQueue().then((q) =>
            q.add('ingest', job, {
              jobId: ingestJobId(job),
              // Spare attempts above the processor's own limit: it decides when a trace has failed.
              attempts: attempts + 2,
              backoff: { type: 'reflect' },
              removeOnComplete: true,
              removeOnFail: true,
            }),
          ),
          ENQUEUE_TIMEOUT_MS,
        );
        return true;
      } catch (err) {
        onError(err as Error);
        return false;
      }
    },
    async hasLiveJob(job) {
      const state = await withTimeout(usableQueue().then((q) => q.getJobState(ingestJobId(job))), ENQUEUE_TIMEOUT_MS);
      return ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(state);
    },
    async depth() {
      const counts = await withTimeout(
        usableQueue().then((q) => q.getJobCounts('waiting', 'delayed', 'active', 'prioritized')),
        ENQUEUE_TIMEOUT_MS,
      );
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    startWorker(processor: JobProcessor, options: WorkerOptions) {
      const { backoffMs } = options;
      workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      workerConnection.on('error', onError);
      worker = new Worker<IngestJob>(QUEUE_NAME, async (job: Job<IngestJob>) => processor(job.data), {
        connection: workerConnection,
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: Math.max(250, Math.floor(options.lockMs / 2)),
        // A job whose worker died is retried rather than failed: the processor is idempotent.
        maxStalledCount: 10,
        settings: { backoffStrategy: (attemptsMade, _type, err) => retryDelayMs(attemptsMade, backoffMs, err) },
      });
      worker.on('error', onError);
    },
    async isReady() {
      try {
        return (await withTimeout(producer.ping(), 1_000)) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      // Worker.close() waits for running jobs to finish before it resolves.
      await worker?.close();
      // A Queue whose setup failed (see usableQueue) cannot close cleanly; nothing is lost.
      await queue.close().catch(() => undefined);
      await Promise.allSettled([producer.quit(), workerConnection?.quit()]);
    },
  };
}
