import type { Db } from '../db/client.js';
import type { ProjectRow, TraceRow } from '../db/schema.js';
import { getTraceView, listTraceViews, type TraceListFilter, type TraceView } from '../db/traceViews.js';
import { judgeOnArrival, requeueFailedJudge } from '../db/judge.js';
import { attachReview, insertTrace, requeueFailedTrace } from '../db/traces.js';
import { overrideJudgeReview, type HumanReview } from '../judge/override.js';
import { ApiError, conflict, notFound } from '../http/errors.js';
import { iso } from '../http/schemas.js';
import type { JobQueue } from '../queue/jobQueue.js';
import { defaultSecretRedactor, type RedactionCounts, type SecretRedactor } from '../security/secrets.js';
import { createTraceTotals } from './totalCounts.js';
import type { CreateTraceBody, ListTracesQuery, ReviewBody, TraceFilterInput, TraceWire } from './models.js';
import { finalResponseOf, normalizeTrajectory, type Message } from './trajectory.js';

export const traceLeased = (label: string) =>
  new ApiError(409, 'trace_leased', `Another reviewer ("${label}") has this trace open in the review queue`);

/** The list's filter fields (query or bulk-review body) as the database's filter. */
export function toListFilter(f: TraceFilterInput): TraceListFilter {
  return {
    reviewStatus: f.review_status,
    ingestStatus: f.ingest_status,
    model: f.model,
    metadata: f.metadata_key !== undefined && f.metadata_value !== undefined ? { key: f.metadata_key, value: f.metadata_value } : undefined,
    createdAfter: f.created_after,
    createdBefore: f.created_before,
    text: f.q,
    reviewSource: f.review_source,
    judgeStatus: f.judge_status,
  };
}

export function toTraceWire(row: TraceView): TraceWire {
  return {
    id: row.id,
    task: row.task,
    trajectory: (row.trajectory ?? []) as Message[],
    final_response: row.finalResponse,
    retrieved_memory_ids: row.retrievedMemoryIds,
    review_status: row.reviewStatus as TraceWire['review_status'],
    ingest_status: row.ingestStatus as TraceWire['ingest_status'],
    ingest_attempts: row.ingestAttempts,
    last_ingest_error: row.lastIngestError,
    model: row.model,
    metadata: row.metadata,
    review: row.reviewResult
      ? {
          result: row.reviewResult as 'pass' | 'fail',
          feedback_text: row.reviewFeedback,
          alpha: row.reviewAlpha!,
          created_at: iso(row.reviewedAt!),
          reviewer: row.reviewer && { key_id: row.reviewer.keyId, label: row.reviewer.label },
          source: row.reviewSource ?? 'human',
          overridden_at: row.overriddenAt && iso(row.overriddenAt),
        }
      : null,
    created_memory_id: row.createdMemoryId,
    reference_context: row.referenceContext,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    lease: row.lease && { key_id: row.lease.keyId, label: row.lease.label, expires_at: iso(row.lease.expiresAt) },
    judge: row.judgeStatus
      ? {
          status: row.judgeStatus,
          result: row.judgeResult,
          reason: row.judgeReason,
          model: row.judgeModel,
          judged_at: row.judgedAt && iso(row.judgedAt),
          attempts: row.judgeAttempts,
          error: row.judgeError,
        }
      : null,
    redactions: row.redactions,
  };
}

/**
 * Recording runs and their reviews. Every write lands in the database first; the job that
 * processes a review is enqueued after, and a lost enqueue is found again by the sweeper.
 */
export function createTraceService(deps: { db: Db; queue: JobQueue; defaultAlpha: number; redactor?: SecretRedactor }) {
  const { db, queue } = deps;
  const redactor = deps.redactor ?? defaultSecretRedactor;
  const totals = createTraceTotals({ db });

  async function enqueue(row: Pick<TraceRow, 'id' | 'ingestRound'>): Promise<void> {
    await queue.enqueue({ traceId: row.id, round: row.ingestRound });
  }

  return {
    /** Secrets in what callers send are replaced before anything is stored (and so before any LLM sees it). */
    redactor,

    /** `keyId`: the calling key, recorded as the reviewer of a review sent with the trace. */
    async create(project: ProjectRow, body: CreateTraceBody, keyId?: string): Promise<Pick<TraceRow, 'id' | 'ingestStatus' | 'ingestRound'>> {
      const redactions: RedactionCounts = {};
      const text = redactor.redact(
        {
          task: body.task,
          trajectory: normalizeTrajectory(body.trajectory as Message[] | string),
          finalResponse: body.final_response,
          metadata: body.metadata ?? {},
          referenceContext: body.reference_context ?? null,
          feedback: body.feedback_text ?? null,
        },
        redactions,
      );
      const review = body.review_result ?? null;
      // An unreviewed trace goes to the project's judge, if it has one and the metadata matches.
      const judge = !review && project.judgeEnabled ? judgeOnArrival(project.judgeMetadataFilter, text.metadata) : undefined;
      const row = await insertTrace(db, {
        projectId: project.id,
        task: text.task,
        trajectory: text.trajectory,
        finalResponse: text.finalResponse ?? finalResponseOf(text.trajectory),
        retrievedMemoryIds: [...new Set(body.retrieved_memory_ids)],
        model: body.model ?? null,
        metadata: text.metadata,
        referenceContext: text.referenceContext,
        alpha: body.alpha ?? null,
        redactions,
        ingestStatus: review ? 'queued' : (judge?.ingestStatus ?? 'completed'),
        ...(judge && { judgeStatus: judge.judgeStatus }),
        ...(review && {
          reviewResult: review,
          reviewFeedback: text.feedback,
          reviewAlpha: body.alpha ?? deps.defaultAlpha,
          reviewedAt: new Date(),
          reviewedByKeyId: keyId ?? null,
          reviewSource: 'human' as const,
        }),
      });
      if (row.ingestStatus === 'queued') await enqueue(row);
      return row;
    },

    async get(project: ProjectRow, id: string): Promise<TraceView> {
      const row = await getTraceView(db, project.id, id);
      if (!row) throw notFound('Trace');
      return row;
    },

    /**
     * A page (keyset with `cursor`, else `offset`) and the number of traces matching the filter.
     * The count is taken on the first page (and reused while it cannot have changed, see
     * totalCounts.ts) and carried by the cursor to the later ones: at 100k traces counting costs
     * more than the page itself, and a walk keeps one total from start to end.
     */
    async list(project: ProjectRow, query: ListTracesQuery) {
      const filter = toListFilter(query);
      const carried = query.cursor?.total;
      const [page, total] = await Promise.all([
        listTraceViews(db, project.id, filter, {
          limit: query.limit,
          offset: query.offset,
          after: query.cursor,
          withTrajectory: query.include_trajectory,
        }),
        carried ?? totals.count(project.id, filter),
      ]);
      return { ...page, total };
    },

    /** alpha: the review's, else the trace's, else the server default. `keyId`: the reviewer. */
    async review(project: ProjectRow, id: string, body: ReviewBody, keyId: string): Promise<TraceView> {
      const existing = await this.get(project, id);
      const redactions: RedactionCounts = {};
      const human = {
        result: body.result,
        feedback: redactor.redact(body.feedback_text ?? null, redactions),
        redactions,
        alpha: body.alpha ?? existing.alpha ?? deps.defaultAlpha,
        reviewerKeyId: keyId,
      };
      const row = await attachReview(db, project.id, id, human);
      if (!row) {
        const now = await this.get(project, id);
        if (!now.reviewResult && now.lease) throw traceLeased(now.lease.label);
        // The judge's review may be overridden once by a human one (src/judge/override.ts); any other is final.
        if (now.reviewSource === 'judge' && !now.overriddenAt) return this.overrideJudge(project, id, human);
        throw conflict('Trace has already been reviewed');
      }
      // Read before enqueueing: the answer shows the trace as queued, not wherever a fast worker has taken it.
      const queued = await this.get(project, id);
      await enqueue(row);
      return queued;
    },

    /** The human verdict wins over the judge's: its Q-updates corrected exactly, the lesson rewritten if the verdict changed. */
    async overrideJudge(project: ProjectRow, id: string, human: HumanReview): Promise<TraceView> {
      const outcome = await overrideJudgeReview(db, project.id, id, human);
      if (!outcome.overridden) throw conflict('Trace has already been reviewed');
      const now = await this.get(project, id); // read before enqueueing, as review() does
      if (outcome.enqueue) await enqueue(outcome.trace);
      return now;
    },

    /** A bulk review's override: false when the trace's review is not (or no longer) the judge's alone. */
    async tryOverrideJudge(project: ProjectRow, id: string, human: HumanReview): Promise<boolean> {
      const outcome = await overrideJudgeReview(db, project.id, id, human);
      if (outcome.overridden && outcome.enqueue) await enqueue(outcome.trace);
      return outcome.overridden;
    },

    async retry(project: ProjectRow, id: string): Promise<TraceView> {
      const existing = await this.get(project, id);
      // A failed review, or an unreviewed trace whose judge failed (a new round of the judge).
      const row =
        (await requeueFailedTrace(db, project.id, id)) ??
        (existing.judgeStatus === 'failed' && project.judgeEnabled ? await requeueFailedJudge(db, project.id, id) : undefined);
      if (!row) {
        if (existing.judgeStatus === 'failed' && !existing.reviewResult && !project.judgeEnabled) {
          throw conflict("The project's judge is switched off: switch it on to judge this trace again, or review it");
        }
        throw conflict(`Only a failed trace (or a trace whose judge failed) can be retried; this one is ${existing.ingestStatus}`);
      }
      const queued = await this.get(project, id);
      await enqueue(row);
      return queued;
    },
  };
}

export type TraceService = ReturnType<typeof createTraceService>;
