import { sql } from 'drizzle-orm';
import type { Executor } from './consolidation.js';
import { redactionsPlus } from './traces.js';

/** A human review replacing the judge's (alpha already resolved: the review's, the trace's or the server's). */
export interface HumanReview {
  result: 'pass' | 'fail';
  feedback: string | null;
  alpha: number;
  reviewerKeyId: string;
  redactions?: Record<string, number>;
}

/** The trace as an override finds it, locked. */
export interface OverrideTarget {
  id: string;
  reviewStatus: string;
  reviewSource: string | null;
  overriddenAt: Date | null;
  reviewResult: string | null;
}

/** One row of a memory's Q chain (q_value_updates in created_at, id order). */
export interface QChainRow {
  id: string;
  traceId: string;
  qBefore: number;
  qAfter: number;
  reward: number;
  alpha: number;
}

/** A memory whose chain holds the judge's update, locked. */
export interface LockedMemory {
  id: string;
  qValue: number;
}

/** Locks the trace (FOR UPDATE) and reads what decides whether and how it can be overridden. */
export async function lockTraceForOverride(tx: Executor, projectId: string, traceId: string): Promise<OverrideTarget | undefined> {
  const { rows } = await tx.execute<Record<string, unknown>>(sql`
    SELECT id, review_status, review_source, overridden_at, review_result
    FROM traces WHERE id = ${traceId} AND project_id = ${projectId} FOR UPDATE
  `);
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id as string,
    reviewStatus: r.review_status as string,
    reviewSource: r.review_source as string | null,
    overriddenAt: r.overridden_at ? new Date(r.overridden_at as string) : null,
    reviewResult: r.review_result as string | null,
  };
}

/**
 * The trace's review becomes the human's (source `human`, overridden now). `requeue`: a new
 * ingest round starts (queued, attempts 0), so a job of the old round writes nothing.
 */
export async function replaceWithHumanReview(
  tx: Executor,
  traceId: string,
  review: HumanReview,
  requeue: boolean,
): Promise<{ id: string; ingestRound: number }> {
  const { rows } = await tx.execute<{ id: string; ingest_round: number }>(sql`
    UPDATE traces SET
      review_result = ${review.result}, review_feedback = ${review.feedback}, review_alpha = ${review.alpha}::float8,
      reviewed_at = now(), reviewed_by_key_id = ${review.reviewerKeyId}, review_source = 'human', overridden_at = now(),
      redactions = ${redactionsPlus(review.redactions)}, lease_key_id = NULL, lease_expires_at = NULL,
      ${
        requeue
          ? sql`ingest_round = ingest_round + 1, ingest_status = 'queued', ingest_attempts = 0, last_ingest_error = NULL,`
          : sql``
      }
      updated_at = now()
    WHERE id = ${traceId}
    RETURNING id, ingest_round
  `);
  return { id: rows[0]!.id, ingestRound: Number(rows[0]!.ingest_round) };
}

/** The memories the trace's review moved the Q of, locked FOR UPDATE in id order (as every Q-update locks them). */
export async function lockMemoriesUpdatedBy(tx: Executor, traceId: string): Promise<LockedMemory[]> {
  const { rows } = await tx.execute<{ id: string; q_value: number }>(sql`
    SELECT m.id, m.q_value FROM memories m
    WHERE m.id IN (SELECT memory_id FROM q_value_updates WHERE trace_id = ${traceId})
    ORDER BY m.id
    FOR UPDATE OF m
  `);
  return rows.map((r) => ({ id: r.id, qValue: Number(r.q_value) }));
}

/**
 * A memory's Q-updates from the trace's one on, in the order they were applied (the earlier ones
 * are not changed by the correction). Read under the memory's lock, so no update can slip in.
 */
export async function qChainFrom(tx: Executor, memoryId: string, traceId: string): Promise<QChainRow[]> {
  const { rows } = await tx.execute<Record<string, unknown>>(sql`
    SELECT u.id, u.trace_id, u.q_before, u.q_after, u.reward, u.alpha
    FROM q_value_updates u
    JOIN q_value_updates k ON k.memory_id = u.memory_id AND k.trace_id = ${traceId}
    WHERE u.memory_id = ${memoryId} AND (u.created_at, u.id) >= (k.created_at, k.id)
    ORDER BY u.created_at, u.id
  `);
  return rows.map((r) => ({
    id: r.id as string,
    traceId: r.trace_id as string,
    qBefore: Number(r.q_before),
    qAfter: Number(r.q_after),
    reward: Number(r.reward),
    alpha: Number(r.alpha),
  }));
}

/**
 * Writes a memory's corrected chain and Q in one statement: the replaced row (`replaced`) takes
 * the human's reward and alpha, review_source `human` and the judge's original figures in
 * `overridden`; every row gets its replayed q_before/q_after; the memory gets `qValue`; and a
 * `review_override` event records the correction.
 */
export async function writeCorrectedChain(
  tx: Executor,
  input: {
    memoryId: string;
    traceId: string;
    replaced: { id: string; reward: number; alpha: number; overridden: Record<string, number> };
    rows: { id: string; qBefore: number; qAfter: number }[];
    qValue: number;
    reviewerKeyId: string;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  const ids = sql`${sql.param(input.rows.map((r) => r.id))}::uuid[]`;
  const before = sql`${sql.param(input.rows.map((r) => r.qBefore))}::float8[]`;
  const after = sql`${sql.param(input.rows.map((r) => r.qAfter))}::float8[]`;
  await tx.execute(sql`
    WITH replayed AS (
      UPDATE q_value_updates u
      SET q_before = v.q_before, q_after = v.q_after,
          reward = CASE WHEN u.id = ${input.replaced.id}::uuid THEN ${input.replaced.reward}::float8 ELSE u.reward END,
          alpha = CASE WHEN u.id = ${input.replaced.id}::uuid THEN ${input.replaced.alpha}::float8 ELSE u.alpha END,
          review_source = CASE WHEN u.id = ${input.replaced.id}::uuid THEN 'human' ELSE u.review_source END,
          overridden = CASE WHEN u.id = ${input.replaced.id}::uuid THEN ${JSON.stringify(input.replaced.overridden)}::jsonb ELSE u.overridden END
      FROM unnest(${ids}, ${before}, ${after}) AS v(id, q_before, q_after)
      WHERE u.id = v.id AND u.memory_id = ${input.memoryId}
      RETURNING u.id
    ), memory AS (
      UPDATE memories SET q_value = ${input.qValue}::float8, updated_at = now() WHERE id = ${input.memoryId} RETURNING id
    )
    INSERT INTO memory_events (memory_id, kind, trace_id, actor_key_id, actor_label, q_value, detail, created_at)
    SELECT memory.id, 'review_override', ${input.traceId}, ${input.reviewerKeyId},
           (SELECT label FROM api_keys WHERE id = ${input.reviewerKeyId}), ${input.qValue}::float8,
           ${JSON.stringify(input.detail)}::jsonb, clock_timestamp()
    FROM memory
  `);
}
