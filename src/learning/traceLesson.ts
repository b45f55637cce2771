import type { FastifyBaseLogger } from 'fastify';
import type { ReflectionMemory } from '../db/learning.js';
import type { TraceRow } from '../db/schema.js';
import type { Embedder } from '../embeddings/embedder.js';
import { tagsOf } from '../memories/tags.js';
import { RetryLaterError } from '../queue/jobQueue.js';
import type { Message } from '../traces/trajectory.js';
import type { Reflection, Reflector } from './reflection.js';
import { ReflectionError } from './reflectionOutput.js';

/**
 * The lesson of a reviewed trace: the reflection on its verdict and the memory it becomes. The
 * memory is embedded from the task alone, so that runs alongside the LLM call.
 */
export async function lessonOfTrace(
  deps: { reflector: Reflector; embedder: Embedder },
  trace: TraceRow,
): Promise<{ reflection: Reflection; passed: boolean; memory: ReflectionMemory }> {
  const passed = trace.reviewResult === 'pass';
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
  return {
    reflection,
    passed,
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
  };
}

/**
 * How a failed attempt of a background step ends: `record` stores the error (final or not) and
 * says whether the trace is still this step's; then the step is over (`failed`, or `skipped` when
 * the trace moved on) or the queue is asked for another attempt. An error that is not a
 * ReflectionError (a timeout, a database hiccup) is retried.
 */
export async function endFailedAttempt(
  deps: { maxAttempts: number; log: FastifyBaseLogger },
  trace: Pick<TraceRow, 'id' | 'ingestAttempts'>,
  error: unknown,
  step: string,
  record: (message: string, final: boolean) => Promise<boolean | void>,
): Promise<'failed' | 'skipped'> {
  const retryable = !(error instanceof ReflectionError) || error.retryable;
  const final = !retryable || trace.ingestAttempts >= deps.maxAttempts;
  const message = error instanceof Error ? error.message : String(error);
  const current = await record(message, final);
  deps.log.warn({ traceId: trace.id, attempt: trace.ingestAttempts, final, err: message }, `${step} failed`);
  if (current === false) return 'skipped';
  if (final) return 'failed'; // The trace says so; POST /v1/traces/{id}/retry starts a new round.
  throw new RetryLaterError(message, error instanceof ReflectionError ? error.retryAfterMs : undefined);
}
