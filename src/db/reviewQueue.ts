import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { humanReviewRound, notLeasedByOther, redactionsPlus } from './traces.js';
import { traces, type TraceRow } from './schema.js';

/**
 * Claims one trace of the review queue for `keyId`: the oldest trace without a review that no
 * other key holds a live lease on; with `after`/`before`, the next/previous one in that order
 * (oldest first). The caller's other leases in the project end in the same statement.
 *
 * Two keys never get the same trace: the candidate row is locked (SKIP LOCKED: a row another
 * claim is taking is passed over, not waited for) and the UPDATE re-checks the lease on the
 * locked row. The queue is the partial index of traces without a review.
 * Returns undefined when nothing is left; throws AnchorNotFound for an unknown after/before id.
 */
export async function claimNextTrace(
  db: Db,
  input: { projectId: string; keyId: string; leaseMs: number; after?: string; before?: string },
): Promise<{ id: string; leaseExpiresAt: Date } | undefined | 'anchor_not_found'> {
  const anchorId = input.after ?? input.before;
  const backwards = input.before !== undefined;
  const anchor = anchorId
    ? sql`AND (created_at, id) ${sql.raw(backwards ? '<' : '>')} (SELECT created_at, id FROM traces WHERE id = ${anchorId} AND project_id = ${input.projectId})`
    : sql``;
  const order = sql.raw(backwards ? 'created_at DESC, id DESC' : 'created_at, id');
  const { rows } = await db.execute<{ id: string | null; lease_expires_at: string | null; anchor_found: boolean }>(sql`
    WITH target AS (
      SELECT id FROM traces
      WHERE project_id = ${input.projectId} AND review_result IS NULL
        AND (lease_key_id IS NULL OR lease_key_id = ${input.keyId} OR lease_expires_at <= now())
        ${anchor}
      ORDER BY ${order}
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE traces t
      SET lease_key_id = ${input.keyId}, lease_expires_at = now() + make_interval(secs => ${input.leaseMs / 1000})
      FROM target
      WHERE t.id = target.id AND t.review_result IS NULL
        AND (t.lease_key_id IS NULL OR t.lease_key_id = ${input.keyId} OR t.lease_expires_at <= now())
      RETURNING t.id, t.lease_expires_at
    ), released AS (
      UPDATE traces
      SET lease_key_id = NULL, lease_expires_at = NULL
      WHERE project_id = ${input.projectId} AND lease_key_id = ${input.keyId} AND id NOT IN (SELECT id FROM target)
      RETURNING id
    )
    SELECT (SELECT id FROM claimed) AS id,
           (SELECT lease_expires_at FROM claimed) AS lease_expires_at,
           ${anchorId ? sql`EXISTS (SELECT 1 FROM traces WHERE id = ${anchorId} AND project_id = ${input.projectId})` : sql`true`} AS anchor_found,
           (SELECT count(*) FROM released) AS released
  `);
  const row = rows[0]!;
  if (!row.anchor_found) return 'anchor_not_found';
  return row.id ? { id: row.id, leaseExpiresAt: new Date(row.lease_expires_at!) } : undefined;
}

/** Ends the caller's leases in a project (it closed the queue). */
export async function releaseLeases(db: Db, projectId: string, keyId: string): Promise<number> {
  const rows = await db
    .update(traces)
    .set({ leaseKeyId: null, leaseExpiresAt: null })
    .where(and(eq(traces.projectId, projectId), eq(traces.leaseKeyId, keyId)))
    .returning({ id: traces.id });
  return rows.length;
}

/**
 * Reviews many traces at once, each exactly as POST /v1/traces/{id}/review would: only traces
 * of the project without a review and without another key's live lease are changed. alpha:
 * the given one, else each trace's own, else the default. Returns the ones reviewed.
 */
export async function attachReviews(
  db: Db,
  projectId: string,
  ids: string[],
  review: { result: string; feedback: string | null; alpha: number | null; defaultAlpha: number; reviewerKeyId: string; redactions?: Record<string, number> },
): Promise<Pick<TraceRow, 'id' | 'ingestRound'>[]> {
  if (ids.length === 0) return [];
  return db
    .update(traces)
    .set({
      reviewResult: review.result,
      reviewFeedback: review.feedback,
      redactions: redactionsPlus(review.redactions),
      reviewAlpha: sql`coalesce(${review.alpha}::float8, ${traces.alpha}, ${review.defaultAlpha}::float8)`,
      reviewedAt: sql`now()`,
      reviewedByKeyId: review.reviewerKeyId,
      leaseKeyId: null,
      leaseExpiresAt: null,
      ingestStatus: 'queued',
      ingestAttempts: 0,
      ...humanReviewRound(),
      updatedAt: sql`now()`,
    })
    .where(
      and(
        inArray(traces.id, ids),
        eq(traces.projectId, projectId),
        sql`${traces.reviewResult} IS NULL`,
        notLeasedByOther(review.reviewerKeyId),
      ),
    )
    .returning({ id: traces.id, ingestRound: traces.ingestRound });
}

/** Why a trace took no review in a bulk review. `judgeReview`: reviewed by the judge only (a human may override it once). */
export interface ReviewBlocker {
  reviewed: boolean;
  judgeReview: boolean;
  /** The trace's own alpha (an override's fallback before the server default). */
  alpha: number | null;
  leasedBy: string | null;
}

/** Why traces were not reviewed: already reviewed (by the judge only, or not), or leased by another key (its label). */
export async function reviewBlockers(
  db: Db,
  projectId: string,
  ids: string[],
): Promise<Map<string, ReviewBlocker>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.execute<{ id: string; reviewed: boolean; judge_review: boolean; alpha: number | null; leased_by: string | null }>(sql`
    SELECT t.id, t.review_result IS NOT NULL AS reviewed,
           t.review_source = 'judge' AND t.overridden_at IS NULL AS judge_review, t.alpha,
           CASE WHEN t.lease_expires_at > now() THEN k.label END AS leased_by
    FROM traces t LEFT JOIN api_keys k ON k.id = t.lease_key_id
    WHERE t.project_id = ${projectId} AND t.id = ANY(${sql`ARRAY[${sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    )}]::uuid[]`})
  `);
  return new Map(
    rows.map((r) => [r.id, { reviewed: r.reviewed, judgeReview: r.judge_review, alpha: r.alpha === null ? null : Number(r.alpha), leasedBy: r.leased_by }]),
  );
}

/** The ids of the newest `limit` traces matching a list filter (bulk review "all that match"). */
export async function traceIdsMatching(db: Db, where: SQL, limit: number): Promise<string[]> {
  const rows = await db.select({ id: traces.id }).from(traces).where(where).orderBy(desc(traces.createdAt), desc(traces.id)).limit(limit);
  return rows.map((r) => r.id);
}
