import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import { rewriteLessonOfTrace } from '../db/lessonRewrite.js';
import type { TraceRow } from '../db/schema.js';
import { recordAttemptFailure } from '../db/traces.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { Reflector } from '../learning/reflection.js';
import { ReflectionError } from '../learning/reflectionOutput.js';
import { tagsOf } from '../memories/tags.js';
import type { JobOutcome } from '../observability/metrics.js';
import { RetryLaterError } from '../queue/jobQueue.js';
import type { Message } from '../traces/trajectory.js';

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
  const passed = trace.reviewResult === 'pass';
  try {
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
    const outcome = await rewriteLessonOfTrace(deps.db, {
      traceId: trace.id,
      round,
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
    deps.log.info({ traceId: trace.id, ...outcome, attempt: trace.ingestAttempts }, 'lesson rewritten after a human override');
    return outcome.done ? 'completed' : 'skipped';
  } catch (error) {
    const retryable = !(error instanceof ReflectionError) || error.retryable;
    const final = !retryable || trace.ingestAttempts >= deps.maxAttempts;
    const message = error instanceof Error ? error.message : String(error);
    await recordAttemptFailure(deps.db, trace.id, round, message, final);
    deps.log.warn({ traceId: trace.id, attempt: trace.ingestAttempts, final, err: message }, 'lesson rewrite failed');
    if (final) return 'failed';
    throw new RetryLaterError(message, error instanceof ReflectionError ? error.retryAfterMs : undefined);
  }
}
