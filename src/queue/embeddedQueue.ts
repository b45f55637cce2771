import { ingestJobId, retryDelayMs, type IngestJob, type JobProcessor, type JobQueue, type WorkerOptions } from './jobQueue.js';

interface Entry {
  job: IngestJob;
  attempt: number;
  timer?: NodeJS.Timeout;
}

/**
 * The job transport when no Redis is configured: an in-process queue with the same processor,
 * concurrency, retries and backoff as the BullMQ one. Jobs live in memory only; after a crash
 * the sweeper finds their traces in the database and enqueues them again.
 */
export function createEmbeddedQueue(): JobQueue {
  const live = new Map<string, Entry>();
  const ready: Entry[] = [];
  const running = new Set<Promise<void>>();
  let processor: JobProcessor | undefined;
  let options: WorkerOptions | undefined;
  let closed = false;

  function pump(): void {
    if (!processor || !options || closed) return;
    while (running.size < options.concurrency && ready.length > 0) {
      const entry = ready.shift()!;
      const run = execute(entry).finally(() => {
        running.delete(run);
        pump();
      });
      running.add(run);
    }
  }

  async function execute(entry: Entry): Promise<void> {
    entry.attempt += 1;
    const id = ingestJobId(entry.job);
    try {
      await processor!(entry.job);
      live.delete(id);
    } catch (error) {
      if (closed || entry.attempt >= options!.maxAttempts) {
        live.delete(id);
        return;
      }
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        ready.push(entry);
        pump();
      }, retryDelayMs(entry.attempt, options!.backoffMs, error));
    }
  }

  return {
    kind: 'embedded',
    async enqueue(job) {
      if (closed) return false;
      const id = ingestJobId(job);
      if (live.has(id)) return true;
      const entry: Entry = { job, attempt: 0 };
      live.set(id, entry);
      ready.push(entry);
      pump();
      return true;
    },
    async hasLiveJob(job) {
      return live.has(ingestJobId(job));
    },
    async depth() {
      return live.size;
    },
    startWorker(p, o) {
      processor = p;
      options = o;
      pump();
    },
    async isReady() {
      return !closed;
    },
    async close() {
      closed = true;
      for (const entry of live.values()) if (entry.timer) clearTimeout(entry.timer);
      await Promise.allSettled([...running]);
      live.clear();
      ready.length = 0;
    },
  };
}
