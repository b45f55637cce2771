import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { memories } from './schema.js';

/** The memory a reviewed trace leaves: its reflection, structured fields and embedding. */
export interface ReflectionMemory {
  task: string;
  reflection: string;
  success: boolean;
  summary: string;
  keyMistake: string;
  correctAction: string;
  guidance: string;
  applicableTools: string[];
  toolsUsed: string[];
  metadata: Record<string, unknown>;
  tags: string[];
  reflectionSource: string;
  embedding: number[];
  embeddingModel: string;
}

export interface AppliedReview {
  /** Null only when the round was superseded before any memory was made. */
  memoryId: string | null;
  /**
   * False when an earlier attempt had already finished the work (a retry or a duplicate job), or
   * when the round was superseded (a human override replaced the review this job was started for).
   */
  applied: boolean;
  qUpdates: { memoryId: string; before: number; after: number }[];
}

/**
 * The end of the learning loop, as one statement (so one round trip, and on the embedded engine
 * the shared session is held for one statement instead of a transaction's worth of round trips):
 * the trace's memory, the Q-updates of the memories its run retrieved (each with a history row),
 * and the trace's final state (a completed trace shows no error: earlier attempts' is cleared).
 *
 * Exactly once: the trace row is locked first and nothing is written if it is already reviewed,
 * or if its ingest_round is no longer `round` (the job's review was replaced by a human override);
 * one memory per trace is also enforced by a unique index, and one update per (memory, trace)
 * by another (a violation fails the whole statement rather than applying twice). Each Q-update
 * is q ← q + α(r − q) on the row's latest value, with rows locked in id order, so concurrent
 * reviews sharing memories compound instead of overwriting each other, and cannot deadlock.
 * The history row is stamped when the update is applied (clock_timestamp(), after the row
 * locks), not when the statement began: a review that waited for another one's lock must sort
 * after it, or the history would not read as a chain of q values.
 */
export async function storeMemoryAndApplyReview(
  db: Pick<Db, 'execute'>,
  input: { traceId: string; round: number; memory: ReflectionMemory; retrievedMemoryIds: string[]; reward: number; alpha: number },
): Promise<AppliedReview> {
  const m = input.memory;
  const value = (column: AnyPgColumn, v: unknown, type: string): SQL => sql`${sql.param(v, column)}::${sql.raw(type)}`;
  const retrieved = sql`ARRAY[${sql.join(
    input.retrievedMemoryIds.map((id) => sql`${id}`),
    sql`, `,
  )}]::uuid[]`;
  const { rows } = await db.execute<{ found: boolean; earlier_memory_id: string | null; memory_id: string | null; q_updates: QUpdateRow[] | null }>(sql`
    WITH trace AS (
      SELECT id, project_id, review_status, created_memory_id, ingest_round, review_source FROM traces WHERE id = ${input.traceId} FOR UPDATE
    ), pending AS (
      SELECT id, project_id FROM trace WHERE review_status IS DISTINCT FROM 'reviewed' AND ingest_round = ${input.round}::int
    ), inserted AS (
      INSERT INTO memories (project_id, source_trace_id, task, reflection, success, summary, key_mistake, correct_action,
                            guidance, applicable_tools, tools_used, metadata, tags, reflection_source, embedding, embedding_model, source_trace_ids)
      SELECT project_id, id, ${value(memories.task, m.task, 'text')}, ${value(memories.reflection, m.reflection, 'text')},
             ${value(memories.success, m.success, 'boolean')}, ${value(memories.summary, m.summary, 'text')},
             ${value(memories.keyMistake, m.keyMistake, 'text')}, ${value(memories.correctAction, m.correctAction, 'text')},
             ${value(memories.guidance, m.guidance, 'text')}, ${value(memories.applicableTools, m.applicableTools, 'text[]')},
             ${value(memories.toolsUsed, m.toolsUsed, 'text[]')}, ${value(memories.metadata, m.metadata, 'jsonb')},
             ${value(memories.tags, m.tags, 'text[]')}, ${value(memories.reflectionSource, m.reflectionSource, 'text')},
             ${value(memories.embedding, m.embedding, 'vector')}, ${value(memories.embeddingModel, m.embeddingModel, 'text')}, ARRAY[id]
      FROM pending
      ON CONFLICT (source_trace_id) DO NOTHING
      RETURNING id
    ), memory AS (
      -- Only reachable if a memory of this trace exists while the trace is not reviewed.
      SELECT COALESCE((SELECT id FROM inserted), (SELECT id FROM memories WHERE source_trace_id = ${input.traceId})) AS id
      FROM pending
    ), locked AS (
      SELECT m.id, m.q_value FROM memories m JOIN pending p ON m.project_id = p.project_id
      WHERE m.id = ANY(${retrieved})
      ORDER BY m.id
      FOR UPDATE OF m
    ), updated AS (
      UPDATE memories m
      SET q_value = LEAST(1, GREATEST(0, m.q_value + ${input.alpha}::float8 * (${input.reward}::float8 - m.q_value))),
          use_count = m.use_count + 1, last_used_at = now(), updated_at = now()
      FROM locked
      WHERE m.id = locked.id
      RETURNING m.id, locked.q_value AS q_before, m.q_value AS q_after
    ), history AS (
      INSERT INTO q_value_updates (memory_id, trace_id, q_before, q_after, reward, alpha, review_source, created_at)
      SELECT id, ${input.traceId}, q_before, q_after, ${input.reward}::float8, ${input.alpha}::float8,
             COALESCE((SELECT review_source FROM trace), 'human'), clock_timestamp() FROM updated
      RETURNING memory_id, q_before, q_after
    ), reviewed AS (
      UPDATE traces t
      SET review_status = 'reviewed', ingest_status = 'completed', created_memory_id = memory.id, last_ingest_error = NULL,
          updated_at = now()
      FROM memory
      WHERE t.id = ${input.traceId}
      RETURNING t.created_memory_id
    )
    SELECT EXISTS (SELECT 1 FROM trace) AS found,
           (SELECT created_memory_id FROM trace) AS earlier_memory_id,
           (SELECT created_memory_id FROM reviewed) AS memory_id,
           (SELECT json_agg(history) FROM history) AS q_updates
  `);
  const row = rows[0]!;
  if (!row.found) throw new Error(`trace ${input.traceId} no longer exists`);
  if (!row.memory_id) return { memoryId: row.earlier_memory_id, applied: false, qUpdates: [] };
  const qUpdates = (row.q_updates ?? [])
    .map((u) => ({ memoryId: u.memory_id, before: Number(u.q_before), after: Number(u.q_after) }))
    .sort((a, b) => a.memoryId.localeCompare(b.memoryId));
  return { memoryId: row.memory_id, applied: true, qUpdates };
}

interface QUpdateRow {
  memory_id: string;
  q_before: number;
  q_after: number;
}
