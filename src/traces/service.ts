import type { Db } from '../db/client.js';
import type { ProjectRow, TraceRow } from '../db/schema.js';
import { attachReview, getTrace, insertTrace, listTraces, requeueFailedTrace } from '../db/traces.js';
import { conflict, notFound } from '../http/errors.js';
import { iso } from '../http/schemas.js';
import type { JobQueue } from '../queue/jobQueue.js';
import type { CreateTraceBody, ListTracesQuery, ReviewBody, TraceWire } from './models.js';
import { finalResponseOf, normalizeTrajectory, type Message } from './trajectory.js';

export function toTraceWire(row: TraceRow): TraceWire {
  return {
    id: row.id,
    task: row.task,
    trajectory: row.trajectory as Message[],
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
        }
      : null,
    created_memory_id: row.createdMemoryId,
    reference_context: row.referenceContext,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

/**
 * Recording runs and their reviews. Every write lands in the database first; the job that
 * processes a review is enqueued after, and a lost enqueue is found again by the sweeper.
 */
export function createTraceService(deps: { db: Db; queue: JobQueue; defaultAlpha: number }) {
  const { db, queue } = deps;

  async function enqueue(row: Pick<TraceRow, 'id' | 'ingestRound'>): Promise<void> {
    await queue.enqueue({ traceId: row.id, round: row.ingestRound });
  }

  return {
    async create(project: ProjectRow, body: CreateTraceBody): Promise<Pick<TraceRow, 'id' | 'ingestStatus' | 'ingestRound'>> {
      const trajectory = normalizeTrajectory(body.trajectory as Message[] | string);
      const review = body.review_result ?? null;
      const row = await insertTrace(db, {
        projectId: project.id,
        task: body.task,
        trajectory,
        finalResponse: body.final_response ?? finalResponseOf(trajectory),
        retrievedMemoryIds: [...new Set(body.retrieved_memory_ids)],
        model: body.model ?? null,
        metadata: body.metadata ?? {},
        referenceContext: body.reference_context ?? null,
        alpha: body.alpha ?? null,
        ingestStatus: review ? 'queued' : 'completed',
        ...(review && {
          reviewResult: review,
          reviewFeedback: body.feedback_text ?? null,
          reviewAlpha: body.alpha ?? deps.defaultAlpha,
          reviewedAt: new Date(),
        }),
      });
      if (review) await enqueue(row);
      return row;
    },

    async get(project: ProjectRow, id: string): Promise<TraceRow> {
      const row = await getTrace(db, project.id, id);
      if (!row) throw notFound('Trace');
      return row;
    },

    list(project: ProjectRow, query: ListTracesQuery) {
      return listTraces(db, project.id, {
        reviewStatus: query.review_status,
        ingestStatus: query.ingest_status,
        model: query.model,
        limit: query.limit,
        offset: query.offset,
      });
    },

    /** alpha: the review's, else the trace's, else the server default. */
    async review(project: ProjectRow, id: string, body: ReviewBody): Promise<TraceRow> {
      const existing = await this.get(project, id);
      const row = await attachReview(db, project.id, id, {
        result: body.result,
        feedback: body.feedback_text ?? null,
        alpha: body.alpha ?? existing.alpha ?? deps.defaultAlpha,
      });
      if (!row) throw conflict('Trace has already been reviewed');
      await enqueue(row);
      return row;
    },

    async retry(project: ProjectRow, id: string): Promise<TraceRow> {
      const existing = await this.get(project, id);
      const row = await requeueFailedTrace(db, project.id, id);
      if (!row) throw conflict(`Only a failed trace can be retried; this one is ${existing.ingestStatus}`);
      await enqueue(row);
      return row;
    },
  };
}

export type TraceService = ReturnType<typeof createTraceService>;
