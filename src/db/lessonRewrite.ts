import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import type { ReflectionMemory } from './learning.js';
import { memories, memoryEvents, traces } from './schema.js';

export type LessonRewrite =
  /** The job's round is over (done by a duplicate job, or superseded): nothing written. */
  | { done: false }
  | { done: true; memoryId: string; how: 'rewritten' | 'detached' | 'stored' };

/**
 * The REWRITE step's write, after a human override changed the judge's verdict on a reviewed
 * trace, in one transaction that locks the trace, then its memory:
 *
 * - the memory holds this trace's lesson only: rewritten in place (same id, Q kept), `rewrite` event;
 * - it was merged with other traces' lessons: this trace is detached from it (evidence − 1,
 *   source_trace_ids without it; source_trace_id passes to the next source), `detach` event, and
 *   the lesson is stored as a memory of the trace's own (Q 0.5, no Q-update);
 * - it is gone (deleted): the lesson is stored as the trace's own memory.
 *
 * Both events name the human reviewer as the actor. The trace ends `completed` with
 * created_memory_id = the lesson's memory. Exactly once: nothing is written unless the trace is
 * still in the job's round and not completed (a retried or duplicated job finds it completed).
 */
export async function rewriteLessonOfTrace(db: Db, input: { traceId: string; round: number; memory: ReflectionMemory }): Promise<LessonRewrite> {
  const m = input.memory;
  return db.transaction(async (tx): Promise<LessonRewrite> => {
    const { rows } = await tx.execute<{ project_id: string; created_memory_id: string | null; reviewed_by_key_id: string | null; label: string | null }>(sql`
      SELECT t.project_id, t.created_memory_id, t.reviewed_by_key_id, k.label
      FROM traces t LEFT JOIN api_keys k ON k.id = t.reviewed_by_key_id
      WHERE t.id = ${input.traceId} AND t.ingest_round = ${input.round}::int AND t.ingest_status IN ('queued', 'processing')
        AND t.review_status = 'reviewed'
      FOR UPDATE OF t
    `);
    const trace = rows[0];
    if (!trace) return { done: false };
    const actor = { actorKeyId: trace.reviewed_by_key_id, actorLabel: trace.label };
    const [current] = trace.created_memory_id
      ? await tx.select().from(memories).where(eq(memories.id, trace.created_memory_id)).for('update')
      : [];
    const lesson = {
      reflection: m.reflection,
      success: m.success,
      summary: m.summary,
      keyMistake: m.keyMistake,
      correctAction: m.correctAction,
      guidance: m.guidance,
      applicableTools: m.applicableTools,
      toolsUsed: m.toolsUsed,
      reflectionSource: m.reflectionSource,
    };
    let memoryId: string;
    let how: 'rewritten' | 'detached' | 'stored';
    const others = current ? current.sourceTraceIds.filter((id) => id !== input.traceId) : [];
    const detaching = current !== undefined && current.sourceTraceIds.includes(input.traceId);
    if (current && others.length === 0) {
      await tx.update(memories).set({ ...lesson, updatedAt: sql`now()` }).where(eq(memories.id, current.id));
      await tx.insert(memoryEvents).values({
        memoryId: current.id,
        kind: 'rewrite',
        traceId: input.traceId,
        ...actor,
        qValue: current.qValue,
        detail: { reflection_before: current.reflection, success_before: current.success, success: m.success, source: m.reflectionSource },
      });
      memoryId = current.id;
      how = 'rewritten';
    } else {
      if (detaching) {
        await tx
          .update(memories)
          .set({
            evidenceCount: sql`GREATEST(1, ${memories.evidenceCount} - 1)`,
            sourceTraceIds: others,
            // The unique source_trace_id must free this trace for its own memory below.
            sourceTraceId: current.sourceTraceId === input.traceId ? others[0]! : current.sourceTraceId,
            updatedAt: sql`now()`,
          })
          .where(eq(memories.id, current.id));
        await tx.insert(memoryEvents).values({
          memoryId: current.id,
          kind: 'detach',
          traceId: input.traceId,
          ...actor,
          qValue: current.qValue,
          detail: { evidence_count: Math.max(1, current.evidenceCount - 1), source_trace_ids: others },
        });
      }
      const [own] = await tx
        .insert(memories)
        .values({
          projectId: trace.project_id,
          sourceTraceId: input.traceId,
          sourceTraceIds: [input.traceId],
          task: m.task,
          metadata: m.metadata,
          tags: m.tags,
          embedding: m.embedding,
          embeddingModel: m.embeddingModel,
          ...lesson,
        })
        .onConflictDoUpdate({ target: memories.sourceTraceId, set: { ...lesson, updatedAt: sql`now()` } })
        .returning({ id: memories.id });
      memoryId = own!.id;
      how = detaching ? 'detached' : 'stored';
    }
    await tx
      .update(traces)
      .set({ ingestStatus: 'completed', createdMemoryId: memoryId, lastIngestError: null, updatedAt: sql`now()` })
      .where(and(eq(traces.id, input.traceId), eq(traces.ingestRound, input.round)));
    return { done: true, memoryId, how };
  });
}
