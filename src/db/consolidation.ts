import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import type { AppliedReview } from './learning.js';
import { memories, projects, type ProjectRow } from './schema.js';
import { quoteLiteral, retrievableMemory } from './vectorSearch.js';

/** A Db or a transaction of one: what the store steps run on. */
export type Executor = Pick<Db, 'execute'>;

export interface ConsolidationSettings {
  enabled: boolean;
  threshold: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A project of the user named by its slug or its id (never created here). */
export async function findOwnedProject(db: Db, ownerUserId: string, slugOrId: string): Promise<ProjectRow | undefined> {
  const named = UUID.test(slugOrId) ? or(eq(projects.slug, slugOrId), eq(projects.id, slugOrId)) : eq(projects.slug, slugOrId);
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.ownerUserId, ownerUserId), named));
  return row;
}

/** The project's own settings where it has them, else the server's defaults. */
export async function consolidationSettings(db: Db, projectId: string, defaults: ConsolidationSettings): Promise<ConsolidationSettings> {
  const [row] = await db
    .select({ enabled: projects.consolidationEnabled, threshold: projects.consolidationThreshold })
    .from(projects)
    .where(eq(projects.id, projectId));
  return { enabled: row?.enabled ?? defaults.enabled, threshold: row?.threshold ?? defaults.threshold };
}

export async function updateConsolidationSettings(
  db: Db,
  projectId: string,
  changes: { enabled?: boolean | null; threshold?: number | null },
): Promise<{ enabled: boolean | null; threshold: number | null }> {
  const [row] = await db
    .update(projects)
    .set({ consolidationEnabled: changes.enabled, consolidationThreshold: changes.threshold })
    .where(eq(projects.id, projectId))
    .returning({ enabled: projects.consolidationEnabled, threshold: projects.consolidationThreshold });
  return row!;
}

/** The memory a new lesson would merge into, as it was read (the merge only applies if it is unchanged). */
export interface NearDuplicate {
  id: string;
  task: string;
  reflection: string;
  summary: string;
  keyMistake: string;
  correctAction: string;
  guidance: string;
  applicableTools: string[];
  toolsUsed: string[];
  evidenceCount: number;
  similarity: number;
}

/**
 * The nearest live memory of the project with the same outcome and embedding model whose task
 * is at least `threshold` similar (cosine), if any. Only lessons from runs (`experience`) merge.
 */
export async function findNearDuplicate(
  db: Executor,
  q: { projectId: string; model: string; dimensions: number; vector: number[]; success: boolean; threshold: number },
): Promise<NearDuplicate | undefined> {
  const typed = sql.raw(`vector(${q.dimensions})`);
  const distance = sql`(m.embedding::${typed}) <=> ${`[${q.vector.join(',')}]`}::${typed}`;
  const { rows } = await db.execute<Record<string, unknown>>(sql`
    SELECT * FROM (
      SELECT m.id, m.task, m.reflection, m.summary, m.key_mistake, m.correct_action, m.guidance, m.applicable_tools,
             m.tools_used, m.evidence_count, 1 - (${distance}) AS similarity
      FROM memories m
      WHERE m.project_id = ${q.projectId} AND m.embedding_model = ${sql.raw(quoteLiteral(q.model))}
        AND m.success = ${q.success} AND m.fact_type = 'experience' AND ${retrievableMemory(sql`m`)}
      ORDER BY ${distance}
      LIMIT 1
    ) nearest
    WHERE similarity >= ${q.threshold}::float8
  `);
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id as string,
    task: r.task as string,
    reflection: r.reflection as string,
    summary: r.summary as string,
    keyMistake: r.key_mistake as string,
    correctAction: r.correct_action as string,
    guidance: r.guidance as string,
    applicableTools: r.applicable_tools as string[],
    toolsUsed: r.tools_used as string[],
    evidenceCount: Number(r.evidence_count),
    similarity: Number(r.similarity),
  };
}

/** The rewritten lesson that replaces the target's text fields. */
export interface MergedLesson {
  reflection: string;
  summary: string;
  keyMistake: string;
  correctAction: string;
  guidance: string;
  applicableTools: string[];
  toolsUsed: string[];
  /** `llm` or `template`: how the merged text was written. */
  source: string;
}

export type MergeOutcome = AppliedReview | { conflict: true };

/**
 * The merge twin of storeMemoryAndApplyReview, as one statement: the trace's lesson goes into
 * `target` (rewritten text, evidence + 1, the trace appended to source_trace_ids, a `merge`
 * history row), the Q-updates of the memories the run retrieved are applied (the target's in
 * the same UPDATE when it is one of them: a row may be updated only once per statement), and
 * the trace is finished with created_memory_id = the target.
 *
 * The target must still be exactly as the merged text was written from (same reflection and
 * evidence count, still live, this trace not yet in it); otherwise nothing at all is written
 * and `{conflict: true}` says to read it again. A trace already reviewed, or whose round moved
 * on, writes nothing (applied: false), as in storeMemoryAndApplyReview. Every memory touched is locked in id
 * order, so concurrent reviews cannot deadlock.
 */
export async function mergeMemoryAndApplyReview(
  db: Executor,
  input: {
    traceId: string;
    /** The round the job claimed: nothing is written once the trace has moved on (see storeMemoryAndApplyReview). */
    round: number;
    target: Pick<NearDuplicate, 'id' | 'reflection' | 'evidenceCount' | 'similarity'>;
    merged: MergedLesson;
    retrievedMemoryIds: string[];
    reward: number;
    alpha: number;
  },
): Promise<MergeOutcome> {
  const m = input.merged;
  const text = (v: string): SQL => sql`${v}::text`;
  const textArray = (v: string[]): SQL => sql`${sql.param(v, memories.applicableTools)}::text[]`;
  const retrieved = sql`${sql.param(input.retrievedMemoryIds, memories.sourceTraceIds)}::uuid[]`;
  const target = sql`${input.target.id}::uuid`;
  const qAfter = (column: SQL) =>
    sql`LEAST(1, GREATEST(0, ${column} + ${input.alpha}::float8 * (${input.reward}::float8 - ${column})))`;
  const { rows } = await db.execute<{
    found: boolean;
    already_reviewed: boolean;
    earlier_memory_id: string | null;
    memory_id: string | null;
    q_updates: { memory_id: string; q_before: number; q_after: number }[] | null;
  }>(sql`
    WITH trace AS (
      SELECT id, project_id, review_status, created_memory_id, ingest_round, review_source FROM traces WHERE id = ${input.traceId} FOR UPDATE
    ), pending AS (
      SELECT id, project_id FROM trace WHERE review_status IS DISTINCT FROM 'reviewed' AND ingest_round = ${input.round}::int
    ), locked AS (
      SELECT m.id, m.q_value, m.reflection, m.evidence_count, m.source_trace_ids, m.invalidated_at, m.expires_at
      FROM memories m JOIN pending p ON m.project_id = p.project_id
      WHERE m.id = ANY(${retrieved} || ${target})
      ORDER BY m.id
      FOR UPDATE OF m
    ), goal AS (
      SELECT * FROM locked
      WHERE id = ${target} AND reflection = ${text(input.target.reflection)} AND evidence_count = ${input.target.evidenceCount}::int
        AND ${retrievableMemory(sql`locked`)} AND NOT (${input.traceId}::uuid = ANY(source_trace_ids))
    ), merged AS (
      UPDATE memories m
      SET reflection = ${text(m.reflection)}, summary = ${text(m.summary)}, key_mistake = ${text(m.keyMistake)},
          correct_action = ${text(m.correctAction)}, guidance = ${text(m.guidance)},
          applicable_tools = ${textArray(m.applicableTools)}, tools_used = ${textArray(m.toolsUsed)},
          reflection_source = ${text(m.source)},
          evidence_count = m.evidence_count + 1,
          source_trace_ids = array_append(m.source_trace_ids, ${input.traceId}::uuid),
          q_value = CASE WHEN m.id = ANY(${retrieved}) THEN ${qAfter(sql`m.q_value`)} ELSE m.q_value END,
          use_count = m.use_count + CASE WHEN m.id = ANY(${retrieved}) THEN 1 ELSE 0 END,
          last_used_at = CASE WHEN m.id = ANY(${retrieved}) THEN now() ELSE m.last_used_at END,
          updated_at = now()
      FROM goal
      WHERE m.id = goal.id
      RETURNING m.id, goal.q_value AS q_before, m.q_value AS q_after, m.id = ANY(${retrieved}) AS was_retrieved,
                goal.reflection AS reflection_before, m.evidence_count
    ), updated AS (
      UPDATE memories m
      SET q_value = ${qAfter(sql`m.q_value`)}, use_count = m.use_count + 1, last_used_at = now(), updated_at = now()
      FROM locked
      WHERE m.id = locked.id AND m.id <> ${target} AND m.id = ANY(${retrieved}) AND EXISTS (SELECT 1 FROM goal)
      RETURNING m.id, locked.q_value AS q_before, m.q_value AS q_after
    ), history AS (
      INSERT INTO q_value_updates (memory_id, trace_id, q_before, q_after, reward, alpha, review_source, created_at)
      SELECT id, ${input.traceId}, q_before, q_after, ${input.reward}::float8, ${input.alpha}::float8,
             COALESCE((SELECT review_source FROM trace), 'human'), clock_timestamp()
      FROM (SELECT id, q_before, q_after FROM updated UNION ALL SELECT id, q_before, q_after FROM merged WHERE was_retrieved) changes
      RETURNING memory_id, q_before, q_after
    ), event AS (
      INSERT INTO memory_events (memory_id, kind, trace_id, q_value, detail, created_at)
      SELECT id, 'merge', ${input.traceId}, q_after,
             jsonb_build_object('evidence_count', evidence_count, 'similarity', ${input.target.similarity}::float8,
                                'source', ${text(m.source)}, 'reflection_before', reflection_before),
             clock_timestamp()
      FROM merged
      RETURNING id
    ), reviewed AS (
      UPDATE traces t
      SET review_status = 'reviewed', ingest_status = 'completed', created_memory_id = merged.id, updated_at = now()
      FROM merged
      WHERE t.id = ${input.traceId}
      RETURNING t.created_memory_id
    )
    SELECT EXISTS (SELECT 1 FROM trace) AS found,
           EXISTS (SELECT 1 FROM trace WHERE review_status = 'reviewed' OR ingest_round <> ${input.round}::int) AS already_reviewed,
           (SELECT created_memory_id FROM trace) AS earlier_memory_id,
           (SELECT created_memory_id FROM reviewed) AS memory_id,
           (SELECT json_agg(history) FROM history) AS q_updates,
           (SELECT count(*) FROM event) AS events
  `);
  const row = rows[0]!;
  if (!row.found) throw new Error(`trace ${input.traceId} no longer exists`);
  if (row.already_reviewed) return { memoryId: row.earlier_memory_id, applied: false, qUpdates: [] };
  if (!row.memory_id) return { conflict: true };
  const qUpdates = (row.q_updates ?? [])
    .map((u) => ({ memoryId: u.memory_id, before: Number(u.q_before), after: Number(u.q_after) }))
    .sort((a, b) => a.memoryId.localeCompare(b.memoryId));
  return { memoryId: row.memory_id, applied: true, qUpdates };
}
