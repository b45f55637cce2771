import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import { rewriteLessonOfTrace } from '../db/lessonRewrite.js';
import type { TraceRow } from '../db/schema.js';
import { recordAttemptFailure } from '../db/traces.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { Reflector } from '../learning/reflection.js';
import { endFailedAttempt, lessonOfTrace } from '../learning/traceLesson.js';
import type { JobOutcome } from '../observability/metrics.js';

export interface RewriteStepDeps {
  db: Db;
  reflector: Reflector;
  embedder: Embedder;
  maxAttempts: number;
  log: FastifyBaseLogger;
}

/**
 * The REWRITE step: a reviewed trace queued again after a human override changed the judge's
 * verdict. The lesson is reflected again from the human verdict and feedback and replaces the
 * judge's one (see rewriteLessonOfTrace: in place, or detached from a merged memory into the
 * trace's own). No Q-update is applied again: the override already corrected them. A failure
 * retries like a reflection; the last one leaves the trace `failed` (retry starts a new round).
 */
export async function rewriteLessonStep(deps: RewriteStepDeps, trace: TraceRow, round: number): Promise<JobOutcome> {
  try {
    const { memory } = await lessonOfTrace(deps, trace);
    const outcome = await rewriteLessonOfTrace(deps.db, { traceId: trace.id, round, memory });
    deps.log.info({ traceId: trace.id, ...outcome, attempt: trace.ingestAttempts }, 'lesson rewritten after a human override');
    return outcome.done ? 'completed' : 'skipped';
  } catch (error) {
    return endFailedAttempt(deps, trace, error, 'lesson rewrite', (message, final) =>
      recordAttemptFailure(deps.db, trace.id, round, message, final),
    );
  }
}
