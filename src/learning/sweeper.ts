import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import { tracesAwaitingWork, type AwaitingWorkCursor } from '../db/traces.js';
import type { JobQueue } from '../queue/jobQueue.js';

/** Younger traces are left alone: the API enqueues them itself right after it stores them. */
const GRACE_MS = 1_000;
/** Rows read per page: a sweep holds one page at a time, however large the backlog. */
const PAGE = 500;

/**
 * The database is the source of truth: any trace whose state says queued or processing but has
 * no live job (Redis was down, a process died) is enqueued again. Enqueueing is idempotent.
 * Each sweep pages through the whole backlog (the first one runs at start, so a restart after a
 * crash has every waiting trace back in the queue within seconds, not 500 per interval).
 */
export function startSweeper(deps: { db: Db; queue: JobQueue; intervalMs: number; log: FastifyBaseLogger }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function sweepOnce(): Promise<number> {
    let enqueued = 0;
    let cursor: AwaitingWorkCursor | undefined;
    while (!stopped) {
      const page = await tracesAwaitingWork(deps.db, GRACE_MS, PAGE, cursor);
      for (const trace of page) {
        const job = { traceId: trace.id, round: trace.ingestRound };
        if (!(await deps.queue.hasLiveJob(job)) && (await deps.queue.enqueue(job))) enqueued++;
      }
      if (page.length < PAGE) break;
      cursor = page.at(-1)!.cursor;
    }
    if (enqueued) deps.log.info({ enqueued }, 'sweeper re-enqueued traces without a live job');
    return enqueued;
  }

  function sweep(): Promise<number> {
    running ??= sweepOnce()
      .catch((err) => {
        deps.log.warn({ err: (err as Error).message }, 'sweep failed; will try again');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void sweep().finally(schedule), deps.intervalMs);
    timer.unref();
  }

  void sweep().finally(schedule);
  return {
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
