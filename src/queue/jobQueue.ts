/** Work for the learning loop: process the review of one trace, in one retry round. */
export interface IngestJob {
  traceId: string;
  /** Bumped by `POST /v1/traces/{id}/retry`, so a new round gets a new job id. */
  round: number;
}

/** Job ids derive from the trace and round: enqueueing the same work twice is a no-op. */
export function ingestJobId(job: IngestJob): string {
  return `ingest-${job.traceId}-${job.round}`;
}

/** Thrown by a processor to ask for another attempt, optionally not before `retryAfterMs`. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

export type JobProcessor = (job: IngestJob) => Promise<void>;

export interface WorkerOptions {
  concurrency: number;
  /** A safety cap; the processor itself decides when a trace has failed for good. */
  maxAttempts: number;
  backoffMs: number;
  /** How long a job stays locked by a worker that stopped answering (BullMQ). */
  lockMs: number;
}

/**
 * The transport between the API (which enqueues) and the workers (which process). The database
 * stays the source of truth: a lost job is found again by the sweeper.
 */
export interface JobQueue {
  readonly kind: 'redis' | 'embedded';
  /** Never throws and never blocks for long: on a transport failure the sweeper enqueues later. */
  enqueue(job: IngestJob): Promise<boolean>;
  /** Whether a job for this work is waiting, delayed or running. */
  hasLiveJob(job: IngestJob): Promise<boolean>;
  /** Jobs waiting, delayed or running (for metrics and benchmarks). */
  depth(): Promise<number>;
  startWorker(processor: JobProcessor, options: WorkerOptions): void;
  isReady(): Promise<boolean>;
  /** Stops taking jobs; running jobs finish (or, on Redis, go back to the queue); then closes. */
  close(): Promise<void>;
}

/** Exponential backoff (base · 2^(attempt−1)), never sooner than the server's Retry-After. */
export function retryDelayMs(attempt: number, baseMs: number, error: unknown): number {
  const exponential = baseMs * 2 ** Math.max(0, attempt - 1);
  const floor = error instanceof RetryLaterError && error.retryAfterMs ? error.retryAfterMs : 0;
  return Math.min(Math.max(exponential, floor), 10 * 60_000);
}
