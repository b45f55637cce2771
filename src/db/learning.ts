import { eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { memories, traces } from './schema.js';

export type NewMemory = typeof memories.$inferInsert;

export interface AppliedReview {
  memoryId: string;
  /** False when an earlier attempt had already finished the work (a retry or a duplicate job). */
  applied: boolean;
  qUpdates: { memoryId: string; before: number; after: number }[];
}

/**
 * The end of the learning loop, in one transaction: the trace's memory, the Q-updates of the
 * memories its run retrieved (each with a history row), and the trace's final state.
 *
 * Exactly once: the trace row is locked first and the work skipped if it is already reviewed;
 * one memory per trace is also enforced by a unique index, and one update per (memory, trace)
 * by another (a violation rolls the whole transaction back rather than applying twice). Each Q-update is one atomic statement, q ← q + α(r − q) on the row's latest value,
 * so concurrent reviews sharing memories compound instead of overwriting each other. Rows are
 * locked in id order, so two such transactions cannot deadlock.
 */
export async function storeMemoryAndApplyReview(
  db: Db,
  input: { traceId: string; memory: NewMemory; retrievedMemoryIds: string[]; reward: number; alpha: number },
): Promise<AppliedReview> {
  return db.transaction(async (tx) => {
    const [trace] = await tx
      .select({ reviewStatus: traces.reviewStatus, createdMemoryId: traces.createdMemoryId, projectId: traces.projectId })
      .from(traces)
      .where(eq(traces.id, input.traceId))
      .for('update');
    if (!trace) throw new Error(`trace ${input.traceId} no longer exists`);
    if (trace.reviewStatus === 'reviewed') {
      return { memoryId: trace.createdMemoryId!, applied: false, qUpdates: [] };
    }

    const [inserted] = await tx
      .insert(memories)
      .values({ ...input.memory, projectId: trace.projectId, sourceTraceId: input.traceId })
      .onConflictDoNothing({ target: memories.sourceTraceId })
      .returning({ id: memories.id });
    const memoryId =
      inserted?.id ??
      (await tx.select({ id: memories.id }).from(memories).where(eq(memories.sourceTraceId, input.traceId)))[0]!.id;

    const ids = input.retrievedMemoryIds.filter((id) => id !== memoryId);
    const qUpdates = ids.length
      ? await applyQUpdates(tx as unknown as Db, { projectId: trace.projectId, traceId: input.traceId, ids, reward: input.reward, alpha: input.alpha })
      : [];

    await tx
      .update(traces)
      .set({ reviewStatus: 'reviewed', ingestStatus: 'completed', createdMemoryId: memoryId, updatedAt: sql`now()` })
      .where(eq(traces.id, input.traceId));
    return { memoryId, applied: true, qUpdates };
  });
}

/**
 * One statement: lock in id order, update from the latest value, record before/after. The
 * history row is stamped when the update is applied (clock_timestamp(), after the row locks),
 * not when the transaction began (now()): a review that waited for another one's lock must sort
 * after it, or the history would not read as a chain of q values.
 */
async function applyQUpdates(
  tx: Db,
  u: { projectId: string; traceId: string; ids: string[]; reward: number; alpha: number },
): Promise<AppliedReview['qUpdates']> {
  const idArray = sql`ARRAY[${sql.join(
    u.ids.map((id) => sql`${id}`),
    sql`, `,
  )}]::uuid[]`;
  const result = await tx.execute<{ memory_id: string; q_before: number; q_after: number }>(sql`
    WITH locked AS (
      SELECT id, q_value FROM memories
      WHERE project_id = ${u.projectId} AND id = ANY(${idArray})
      ORDER BY id
      FOR UPDATE
    ), updated AS (
      UPDATE memories m
      SET q_value = LEAST(1, GREATEST(0, m.q_value + ${u.alpha}::float8 * (${u.reward}::float8 - m.q_value))),
          updated_at = now()
      FROM locked
      WHERE m.id = locked.id
      RETURNING m.id, locked.q_value AS q_before, m.q_value AS q_after
    )
    INSERT INTO q_value_updates (memory_id, trace_id, q_before, q_after, reward, alpha, created_at)
    SELECT id, ${u.traceId}, q_before, q_after, ${u.reward}::float8, ${u.alpha}::float8, clock_timestamp() FROM updated
    RETURNING memory_id, q_before, q_after
  `);
  return result.rows.map((r) => ({ memoryId: r.memory_id, before: Number(r.q_before), after: Number(r.q_after) }));
}
