import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import { claimTraceAttempt, recordAttemptFailure } from '../db/traces.js';
import type { Embedder } from '../embeddings/embedder.js';
import { withFreshLlmCallContext } from '../llm/usage/context.js';
import type { IngestJob, JobProcessor, JobQueue } from '../queue/jobQueue.js';
import { judgeTrace, type JudgeStepDeps } from '../judge/judgeStep.js';
import type { JobOutcome } from '../observability/metrics.js';
import type { ConsolidationSettings } from '../db/consolidation.js';
import { rewriteLessonStep } from '../judge/rewrite.js';
import { storeReviewedLesson } from './consolidation.js';
import type { MemoryMerger } from './memoryMerger.js';
import type { Reflector } from './reflection.js';
import { endFailedAttempt, lessonOfTrace } from './traceLesson.js';

export interface IngestDeps {
  db: Db;
  reflector: Reflector;
  /** Rewrites a lesson merged into a near-duplicate memory. */
  merger: MemoryMerger;
  /** The server's consolidation defaults (projects may override them). */
  consolidation: ConsolidationSettings;
  embedder: Embedder;
  maxAttempts: number;
  log: FastifyBaseLogger;
  /** Where the judge's verdict queues the round that applies it. */
  queue: Pick<JobQueue, 'enqueue'>;
  /** The server-side judge (undefined without an LLM) and the model of projects that name none. */
  judge: Pick<JudgeStepDeps, 'judge' | 'defaultModel'>;
  /** Told how each attempt ended and how long it took (metrics). */
  observe?: (outcome: JobOutcome, seconds: number) => void;
}

/**
 * Processes the review of one trace: reflection and embedding → one statement that stores the
 * memory (or merges it into a near-duplicate, see storeReviewedLesson) and applies the
 * Q-updates. Every attempt is counted on the trace; a failure either
 * asks the queue for another attempt or, at the last one, marks the trace `failed`.
 */
export function createIngestProcessor(deps: IngestDeps): JobProcessor {
  return async (job) => {
    const started = performance.now();
    let outcome: JobOutcome = 'retry';
    try {
      // Its LLM calls are logged as this trace's reflection (not as the request that queued it).
      outcome = await withFreshLlmCallContext({ purpose: 'reflection', traceId: job.traceId }, () => processAttempt(deps, job));
    } finally {
      deps.observe?.(outcome, (performance.now() - started) / 1000);
    }
  };
}

async function processAttempt(deps: IngestDeps, { traceId, round }: IngestJob): Promise<JobOutcome> {
  const trace = await claimTraceAttempt(deps.db, traceId, round);
  if (!trace) return 'skipped'; // Done already, failed for good, or superseded by a retry round.
  // No review yet and the judge asked: the judge's verdict (src/judge/) comes first.
  if (!trace.reviewResult && (trace.judgeStatus === 'queued' || trace.judgeStatus === 'judging')) {
    return judgeTrace({ ...deps, ...deps.judge }, trace, round);
  }
  // Reviewed already and queued again: a human override changed the judge's verdict, so the lesson is rewritten.
  if (trace.reviewStatus === 'reviewed') return rewriteLessonStep(deps, trace, round);
  if (!trace.reviewResult) throw new Error(`trace ${traceId} was queued without a review`);
  try {
    const { reflection, passed, memory } = await lessonOfTrace(deps, trace);
    const consolidation = { db: deps.db, merger: deps.merger, defaults: deps.consolidation, dimensions: deps.embedder.dimensions };
    const outcome = await storeReviewedLesson(consolidation, {
      traceId,
      round,
      projectId: trace.projectId,
      reflection,
      passed,
      retrievedMemoryIds: trace.retrievedMemoryIds,
      reward: passed ? 1 : 0,
      alpha: trace.reviewAlpha!,
      memory,
    });
    deps.log.info(
      { traceId, memoryId: outcome.memoryId, applied: outcome.applied, merged: outcome.merged, qUpdates: outcome.qUpdates.length, attempt: trace.ingestAttempts },
      'review processed',
    );
    return 'completed';
  } catch (error) {
    return endFailedAttempt(deps, trace, error, 'review processing', (message, final) =>
      recordAttemptFailure(deps.db, traceId, round, message, final),
    );
  }
}
