import { and, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgInsertValue } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { traces, type TraceRow } from './schema.js';

/** A new trace's columns; a column may be an SQL expression evaluated by the insert (e.g. the judge's filter). */
export type NewTrace = PgInsertValue<typeof traces>;

/** The trace's redaction counts with `counts` added, kind by kind (e.g. for secrets found in a review's feedback). */
export function redactionsPlus(counts: Record<string, number> | undefined): SQL {
  if (!counts || Object.keys(counts).length === 0) return sql`${traces.redactions}`;
  return sql`(SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb) FROM (
    SELECT key, sum(value::int) AS total
    FROM (SELECT * FROM jsonb_each_text(${traces.redactions}) UNION ALL SELECT * FROM jsonb_each_text(${JSON.stringify(counts)}::jsonb)) AS parts
    GROUP BY key) AS sums)`;
}

/** Returns only what the caller needs next, not the (possibly large) trajectory back. */
export async function insertTrace(db: Db, values: NewTrace): Promise<Pick<TraceRow, 'id' | 'ingestStatus' | 'ingestRound'>> {
  const [row] = await db
    .insert(traces)
    .values(values)
    .returning({ id: traces.id, ingestStatus: traces.ingestStatus, ingestRound: traces.ingestRound });
  return row!;
}

export async function getTrace(db: Db, projectId: string, id: string): Promise<TraceRow | undefined> {
  const [row] = await db
    .select()
    .from(traces)
    .where(and(eq(traces.id, id), eq(traces.projectId, projectId)));
  return row;
}

/** No other key holds a live review-queue lease on the trace. */
export function notLeasedByOther(keyId: string): SQL {
  return sql`(${traces.leaseKeyId} IS NULL OR ${traces.leaseKeyId} = ${keyId} OR ${traces.leaseExpiresAt} <= now())`;
}

/**
 * What a human review of an unreviewed trace sets besides the review: its source, and a new
 * round, so its job id differs from a judge job still queued or running for the trace (that job
 * then writes no review); a judge not started yet has nothing left to do.
 */
export function humanReviewRound() {
  return {
    reviewSource: 'human' as const,
    ingestRound: sql`${traces.ingestRound} + 1`,
    judgeStatus: sql`CASE WHEN ${traces.judgeStatus} = 'queued' THEN 'skipped' ELSE ${traces.judgeStatus} END`,
  };
}

/**
 * Attaches a deferred review, once: a trace that already has one, or that another key has
 * leased in the review queue, is left as it is. The review ends any lease.
 */
export async function attachReview(
  db: Db,
  projectId: string,
  id: string,
  review: { result: string; feedback: string | null; alpha: number; reviewerKeyId: string; redactions?: Record<string, number> },
): Promise<Pick<TraceRow, 'id' | 'ingestRound'> | undefined> {
  const [row] = await db
    .update(traces)
    .set({
      reviewResult: review.result,
      reviewFeedback: review.feedback,
      redactions: redactionsPlus(review.redactions),
      reviewAlpha: review.alpha,
      reviewedAt: sql`now()`,
      reviewedByKeyId: review.reviewerKeyId,
      leaseKeyId: null,
      leaseExpiresAt: null,
      ingestStatus: 'queued',
      ingestAttempts: 0,
      ...humanReviewRound(),
      updatedAt: sql`now()`,
    })
    .where(and(eq(traces.id, id), eq(traces.projectId, projectId), isNull(traces.reviewResult), notLeasedByOther(review.reviewerKeyId)))
    .returning({ id: traces.id, ingestRound: traces.ingestRound });
  return row;
}

/** Starts a new round of attempts for a trace whose processing failed. */
export async function requeueFailedTrace(db: Db, projectId: string, id: string): Promise<TraceRow | undefined> {
  const [row] = await db
    .update(traces)
    .set({
      ingestStatus: 'queued',
      ingestAttempts: 0,
      ingestRound: sql`${traces.ingestRound} + 1`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(traces.id, id), eq(traces.projectId, projectId), eq(traces.ingestStatus, 'failed')))
    .returning();
  return row;
}

/**
 * Claims a trace for one attempt of the given round, counting the attempt. Nothing is claimed
 * when the work is done, failed for good, or belongs to another round: the job is then stale.
 */
export async function claimTraceAttempt(db: Db, id: string, round: number): Promise<TraceRow | undefined> {
  const [row] = await db
    .update(traces)
    .set({ ingestStatus: 'processing', ingestAttempts: sql`${traces.ingestAttempts} + 1`, updatedAt: sql`now()` })
    .where(and(eq(traces.id, id), eq(traces.ingestRound, round), inArray(traces.ingestStatus, ['queued', 'processing'])))
    .returning();
  return row;
}

/** Records a failed attempt: back to `queued` for another try, or `failed` for good. */
export async function recordAttemptFailure(db: Db, id: string, round: number, error: string, final: boolean): Promise<void> {
  await db
    .update(traces)
    .set({ ingestStatus: final ? 'failed' : 'queued', lastIngestError: error, updatedAt: sql`now()` })
    .where(and(eq(traces.id, id), eq(traces.ingestRound, round), eq(traces.ingestStatus, 'processing')));
}

/** Traces the workers still owe work to, oldest first (the sweeper's scan). */
/** Where a page of `tracesAwaitingWork` ended: its last row's exact `updated_at` (as text, µs kept) and id. */
export interface AwaitingWorkCursor {
  updatedAt: string;
  id: string;
}

/**
 * One page of traces whose state says queued or processing and that were last touched before
 * `olderThanMs` ago, oldest first, after `cursor` (keyset order: updated_at, id).
 */
export async function tracesAwaitingWork(
  db: Db,
  olderThanMs: number,
  limit: number,
  cursor?: AwaitingWorkCursor,
): Promise<Array<Pick<TraceRow, 'id' | 'ingestRound'> & { cursor: AwaitingWorkCursor }>> {
  const rows = await db
    .select({ id: traces.id, ingestRound: traces.ingestRound, updatedAt: sql<string>`${traces.updatedAt}::text` })
    .from(traces)
    .where(
      and(
        inArray(traces.ingestStatus, ['queued', 'processing']),
        sql`${traces.updatedAt} < now() - make_interval(secs => ${olderThanMs / 1000})`,
        cursor ? sql`(${traces.updatedAt}, ${traces.id}) > (${cursor.updatedAt}::timestamptz, ${cursor.id}::uuid)` : undefined,
      ),
    )
    .orderBy(traces.updatedAt, traces.id)
    .limit(limit);
  return rows.map((r) => ({ id: r.id, ingestRound: r.ingestRound, cursor: { updatedAt: r.updatedAt, id: r.id } }));
}
