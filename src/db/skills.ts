import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { memories, skills, type MemoryRow, type SkillRow } from './schema.js';
import { retrievableMemory } from './vectorSearch.js';

/** Live memories that came from reviewed runs: what a Skill is built from. */
const reviewedLive = (projectId: string) =>
  and(
    eq(memories.projectId, projectId),
    sql`${memories.success} IS NOT NULL`,
    sql`cardinality(${memories.sourceTraceIds}) > 0`,
    retrievableMemory(sql`${memories}`),
  );

export async function countReviewedMemories(db: Db, projectId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(memories).where(reviewedLive(projectId));
  return row!.n;
}

export type SkillMemory = Pick<
  MemoryRow,
  'id' | 'task' | 'reflection' | 'qValue' | 'success' | 'keyMistake' | 'correctAction' | 'guidance' | 'applicableTools' | 'evidenceCount'
>;

/** The project's best lessons of one outcome: highest Q first (newest first among equals). */
export async function topReviewedMemories(db: Db, projectId: string, success: boolean, limit: number): Promise<SkillMemory[]> {
  return db
    .select({
      id: memories.id,
      task: memories.task,
      reflection: memories.reflection,
      qValue: memories.qValue,
      success: memories.success,
      keyMistake: memories.keyMistake,
      correctAction: memories.correctAction,
      guidance: memories.guidance,
      applicableTools: memories.applicableTools,
      evidenceCount: memories.evidenceCount,
    })
    .from(memories)
    .where(and(reviewedLive(projectId), eq(memories.success, success)))
    .orderBy(desc(memories.qValue), desc(memories.createdAt), desc(memories.id))
    .limit(limit);
}

/** A build left `building` longer than this was cut short (the process stopped): it counts as failed. */
export const SKILL_BUILD_STALE_MS = 10 * 60_000;

/**
 * Starts the next version, or returns the build already running (one at a time per project).
 * The version is the project's highest + 1; a concurrent start that takes the same number loses
 * on the unique index and is answered with the winner's build.
 */
export async function startSkillBuild(
  db: Db,
  values: { projectId: string; name: string; instructions: string | null; requestedByKeyId: string; requestedByLabel: string },
): Promise<{ row: SkillRow; started: boolean }> {
  await db
    .update(skills)
    .set({ status: 'failed', error: 'The build was interrupted (the server stopped); start it again', completedAt: sql`now()` })
    .where(
      and(
        eq(skills.projectId, values.projectId),
        eq(skills.status, 'building'),
        sql`${skills.createdAt} < now() - make_interval(secs => ${SKILL_BUILD_STALE_MS / 1000})`,
      ),
    );
  for (let attempt = 0; attempt < 3; attempt++) {
    const [running] = await db
      .select()
      .from(skills)
      .where(and(eq(skills.projectId, values.projectId), eq(skills.status, 'building')));
    if (running) return { row: running, started: false };
    const { rows } = await db.execute<{ id: string }>(sql`
      INSERT INTO skills (project_id, version, name, instructions, requested_by_key_id, requested_by_label)
      SELECT ${values.projectId}, coalesce(max(version), 0) + 1, ${values.name}, ${values.instructions}, ${values.requestedByKeyId}, ${values.requestedByLabel}
      FROM skills WHERE project_id = ${values.projectId}
      ON CONFLICT (project_id, version) DO NOTHING
      RETURNING id
    `);
    if (rows[0]) return { row: (await db.select().from(skills).where(eq(skills.id, rows[0].id)))[0]!, started: true };
  }
  throw new Error('could not allocate a Skill version');
}

export async function finishSkillBuild(
  db: Db,
  id: string,
  result: { description: string; markdown: string; source: string; builtFrom: Record<string, unknown> } | { error: string },
): Promise<void> {
  const changes =
    'error' in result
      ? { status: 'failed' as const, error: result.error }
      : { status: 'ready' as const, description: result.description, markdown: result.markdown, source: result.source, builtFrom: result.builtFrom };
  await db
    .update(skills)
    .set({ ...changes, completedAt: sql`now()` })
    .where(and(eq(skills.id, id), eq(skills.status, 'building')));
}

/** A given version, or the latest ready one. */
export async function findSkill(db: Db, projectId: string, version?: number): Promise<SkillRow | undefined> {
  const [row] = await db
    .select()
    .from(skills)
    .where(and(eq(skills.projectId, projectId), version === undefined ? eq(skills.status, 'ready') : eq(skills.version, version)))
    .orderBy(desc(skills.version))
    .limit(1);
  return row;
}

/** The latest ready version before `version` (what a refinement improves on). */
export async function previousReadySkill(db: Db, projectId: string, version: number): Promise<SkillRow | undefined> {
  const [row] = await db
    .select()
    .from(skills)
    .where(and(eq(skills.projectId, projectId), eq(skills.status, 'ready'), sql`${skills.version} < ${version}`))
    .orderBy(desc(skills.version))
    .limit(1);
  return row;
}

export async function listSkillVersions(db: Db, projectId: string): Promise<SkillRow[]> {
  return db.select().from(skills).where(eq(skills.projectId, projectId)).orderBy(desc(skills.version));
}
