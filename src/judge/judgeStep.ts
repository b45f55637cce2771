import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import { attachJudgeVerdict, judgeSettingsOf, markJudging, recordJudgeFailure, skipJudge } from '../db/judge.js';
import type { TraceRow } from '../db/schema.js';
import { ReflectionError } from '../learning/reflectionOutput.js';
import { withFreshLlmCallContext } from '../llm/usage/context.js';
import type { JobOutcome } from '../observability/metrics.js';
import type { JobQueue } from '../queue/jobQueue.js';
import { endFailedAttempt } from '../learning/traceLesson.js';
import type { Message } from '../traces/trajectory.js';
import type { Judge } from './llmJudge.js';
import { DEFAULT_JUDGE_ALPHA } from './settingsModels.js';

export interface JudgeStepDeps {
  db: Db;
  queue: Pick<JobQueue, 'enqueue'>;
  /** Undefined without OPENAI_API_KEY: a queued judgement then fails (it cannot be made up). */
  judge: Judge | undefined;
  /** The server's model (REFLECT_LLM_MODEL), for projects that name none. */
  defaultModel: string;
  maxAttempts: number;
  log: FastifyBaseLogger;
}

/**
 * One judge attempt on a claimed, unreviewed trace. The verdict becomes the trace's review in
 * one conditional statement, which starts a new round; that round's job applies it as any
 * review (memory, Q-updates with the judge's alpha). A failure retries like a reflection and
 * the last one leaves the trace unreviewed with the error recorded.
 */
export async function judgeTrace(deps: JudgeStepDeps, trace: TraceRow, round: number): Promise<JobOutcome> {
  const { db, log } = deps;
  const settings = await judgeSettingsOf(db, trace.projectId);
  if (!settings?.judgeEnabled || !settings.judgeRubric?.trim()) {
    await skipJudge(db, trace.id, round); // Switched off since the trace arrived.
    return 'skipped';
  }
  if (!(await markJudging(db, trace.id, round))) return 'skipped'; // A human reviewed it first.
  const model = settings.judgeModel ?? deps.defaultModel;
  try {
    if (!deps.judge) throw new ReflectionError('The judge needs an LLM: OPENAI_API_KEY is not set', { retryable: false });
    const judge = deps.judge;
    const verdict = await withFreshLlmCallContext({ purpose: 'judge', traceId: trace.id, projectId: trace.projectId }, () =>
      judge.judge(
        {
          task: trace.task,
          trajectory: trace.trajectory as Message[],
          finalResponse: trace.finalResponse,
          referenceContext: trace.referenceContext,
          rubric: settings.judgeRubric!,
        },
        model,
      ),
    );
    const alpha = settings.judgeAlpha ?? DEFAULT_JUDGE_ALPHA;
    const next = await attachJudgeVerdict(db, trace.id, round, { result: verdict.verdict, reason: verdict.reason, model, alpha });
    log.info({ traceId: trace.id, verdict: verdict.verdict, applied: next !== undefined, attempt: trace.ingestAttempts }, 'trace judged');
    if (next !== undefined) await deps.queue.enqueue({ traceId: trace.id, round: next });
    return 'completed';
  } catch (error) {
    // `recordJudgeFailure` is false when a human reviewed the trace meanwhile.
    return endFailedAttempt(deps, trace, error, 'judging', (message, final) => recordJudgeFailure(db, trace.id, round, message, final));
  }
}
