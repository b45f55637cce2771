import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import { claimTraceAttempt, recordAttemptFailure } from '../db/traces.js';
import type { Embedder } from '../embeddings/embedder.js';
import { withFreshLlmCallContext } from '../llm/usage/context.js';
import { RetryLaterError, type IngestJob, type JobProcessor, type JobQueue } from '../queue/jobQueue.js';
import { judgeTrace, type JudgeStepDeps } from '../judge/judgeStep.js';
import type { Message } from '../traces/trajectory.js';
import { tagsOf } from '../memories/tags.js';
import type { JobOutcome } from '../observability/metrics.js';
import type { ConsolidationSettings } from '../db/consolidation.js';
import { rewriteLessonStep } from '../judge/rewrite.js';
import { storeReviewedLesson } from './consolidation.js';
import type { MemoryMerger } from './memoryMerger.js';
import type { Reflector } from './reflection.js';
import { ReflectionError } from './reflectionOutput.js';

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
  const passed = trace.reviewResult === 'pass';
  try {
    // The memory is embedded from the task alone, so that runs alongside the LLM call.
    const [reflection, [embedding]] = await Promise.all([
      deps.reflector.reflect({
        task: trace.task,
        trajectory: trace.trajectory as Message[],
        finalResponse: trace.finalResponse,
        result: passed ? 'pass' : 'fail',
        feedbackText: trace.reviewFeedback,
        referenceContext: trace.referenceContext,
      }),
      deps.embedder.embed([trace.task]),
    ]);
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
      memory: {
        task: trace.task,
        reflection: reflection.reflection,
        success: passed,
        summary: reflection.summary,
        keyMistake: reflection.key_mistake,
        correctAction: reflection.correct_action,
        guidance: reflection.guidance,
        applicableTools: reflection.applicable_tools,
        toolsUsed: reflection.tools_used,
        metadata: trace.metadata,
        tags: tagsOf(trace.metadata),
        reflectionSource: reflection.source,
        embedding: embedding!,
        embeddingModel: deps.embedder.model,
      },
    });
    deps.log.info(
      { traceId, memoryId: outcome.memoryId, applied: outcome.applied, merged: outcome.merged, qUpdates: outcome.qUpdates.length, attempt: trace.ingestAttempts },
      'review processed',
    );
    return 'completed';
  } catch (error) {
    const retryable = !(error instanceof ReflectionError) || error.retryable;
    const final = !retryable || trace.ingestAttempts >= deps.maxAttempts;
    const message = error instanceof Error ? error.message : String(error);
    await recordAttemptFailure(deps.db, traceId, round, message, final);
    deps.log.warn({ traceId, attempt: trace.ingestAttempts, final, err: message }, 'review processing failed');
    if (final) return 'failed'; // The trace says `failed`; POST /v1/traces/{id}/retry starts a new round.
    throw new RetryLaterError(message, error instanceof ReflectionError ? error.retryAfterMs : undefined);
  }
}
