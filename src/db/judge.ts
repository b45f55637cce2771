import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { projects, traces, type ProjectRow, type TraceRow } from './schema.js';

/** A project's judge settings as stored (null = the default). */
export type JudgeSettingsRow = Pick<
  ProjectRow,
  'id' | 'slug' | 'judgeEnabled' | 'judgeRubric' | 'judgeModel' | 'judgeAlpha' | 'judgeMetadataFilter'
>;

const judgeColumns = {
  id: projects.id,
  slug: projects.slug,
  judgeEnabled: projects.judgeEnabled,
  judgeRubric: projects.judgeRubric,
  judgeModel: projects.judgeModel,
  judgeAlpha: projects.judgeAlpha,
  judgeMetadataFilter: projects.judgeMetadataFilter,
};

export async function judgeSettingsOf(db: Db, projectId: string): Promise<JudgeSettingsRow | undefined> {
  const [row] = await db.select(judgeColumns).from(projects).where(eq(projects.id, projectId));
  return row;
}

/** Writes the settings given (undefined = unchanged, null = back to the default). */
export async function updateJudgeSettings(
  db: Db,
  projectId: string,
  changes: Partial<Pick<ProjectRow, 'judgeEnabled' | 'judgeRubric' | 'judgeModel' | 'judgeAlpha' | 'judgeMetadataFilter'>>,
): Promise<JudgeSettingsRow> {
  const [row] = await db.update(projects).set(changes).where(eq(projects.id, projectId)).returning(judgeColumns);
  return row!;
}

/**
 * The judge columns of a new unreviewed trace in a project whose judge is on: queued for the
 * judge when its metadata contains every pair of the filter (PostgreSQL's `@>`, evaluated in the
 * insert itself), else left as any unreviewed trace is (completed, no judge).
 */
export function judgeOnArrival(
  filter: Record<string, unknown> | null,
  metadata: Record<string, unknown>,
): { judgeStatus: SQL<'queued' | null>; ingestStatus: SQL<string> } {
  if (!filter) return { judgeStatus: sql<'queued'>`'queued'`, ingestStatus: sql<string>`'queued'` };
  const matches = sql`${JSON.stringify(metadata)}::jsonb @> ${JSON.stringify(filter)}::jsonb`;
  return {
    judgeStatus: sql<'queued' | null>`CASE WHEN ${matches} THEN 'queued' END`,
    ingestStatus: sql<string>`CASE WHEN ${matches} THEN 'queued' ELSE 'completed' END`,
  };
}

/** The claimed attempt is the judge's: `judging`, one more judge attempt counted; false if a human came first. */
export async function markJudging(db: Db, id: string, round: number): Promise<boolean> {
  const rows = await db
    .update(traces)
    .set({ judgeStatus: 'judging', judgeAttempts: sql`${traces.judgeAttempts} + 1`, updatedAt: sql`now()` })
    .where(and(eq(traces.id, id), eq(traces.ingestRound, round), isNull(traces.reviewResult)))
    .returning({ id: traces.id });
  return rows.length > 0;
}

export interface JudgeVerdict {
  result: 'pass' | 'fail';
  reason: string;
  model: string;
  alpha: number;
}

/**
 * Attaches the judge's verdict as the trace's review, in one conditional statement: only while
 * no human has reviewed it and the round is still the one claimed. The review then starts a
 * new round (its own job id) that the normal path applies: memory and Q-updates with the
 * judge's alpha. Returns that round, or undefined when a human came first — then only the
 * judge's own verdict is recorded (agreement data) and nothing is applied.
 */
export async function attachJudgeVerdict(db: Db, id: string, round: number, v: JudgeVerdict): Promise<number | undefined> {
  const judgement = {
    judgeResult: v.result,
    judgeReason: v.reason,
    judgeModel: v.model,
    judgedAt: sql`now()`,
    judgeError: null,
    judgeStatus: 'judged' as const,
  };
  const [applied] = await db
    .update(traces)
    .set({
      ...judgement,
      reviewResult: v.result,
      reviewFeedback: v.reason,
      reviewAlpha: v.alpha,
      reviewSource: 'judge',
      reviewedAt: sql`now()`,
      reviewedByKeyId: null,
      // The verdict ends a review-queue lease, as a human review does.
      leaseKeyId: null,
      leaseExpiresAt: null,
      ingestRound: sql`${traces.ingestRound} + 1`,
      ingestStatus: 'queued',
      ingestAttempts: 0,
      updatedAt: sql`now()`,
    })
    .where(and(eq(traces.id, id), isNull(traces.reviewResult), eq(traces.ingestRound, round), eq(traces.judgeStatus, 'judging')))
    .returning({ ingestRound: traces.ingestRound });
  if (applied) return applied.ingestRound;
  // A human review landed while the judge was thinking: it stands; the judge's verdict is kept beside it.
  await db
    .update(traces)
    .set({ ...judgement, updatedAt: sql`now()` })
    .where(and(eq(traces.id, id), eq(traces.judgeStatus, 'judging'), sql`${traces.reviewResult} IS NOT NULL`));
  return undefined;
}

/**
 * Records a failed judge attempt. In the claimed round: back to `queued` for another try, or at
 * the last one `failed` with the trace left unreviewed and its ingest `completed` — never a
 * made-up verdict. If a human reviewed meanwhile (the round moved on), the judge is `skipped`.
 * Returns whether the claimed round was still current.
 */
export async function recordJudgeFailure(db: Db, id: string, round: number, error: string, final: boolean): Promise<boolean> {
  const current = sql`${traces.ingestRound} = ${round}::int`;
  const [row] = await db
    .update(traces)
    .set({
      judgeStatus: sql`CASE WHEN ${current} THEN ${final ? 'failed' : 'queued'} ELSE 'skipped' END`,
      judgeError: error,
      ingestStatus: sql`CASE WHEN ${current} THEN ${final ? 'completed' : 'queued'} ELSE ${traces.ingestStatus} END`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(traces.id, id), eq(traces.judgeStatus, 'judging')))
    .returning({ current: sql<boolean>`${traces.ingestRound} = ${round}::int` });
  return row?.current ?? false;
}

/** The judge was switched off before it got to the trace: `skipped`, the trace stays unreviewed. */
export async function skipJudge(db: Db, id: string, round: number): Promise<void> {
  await db
    .update(traces)
    .set({ judgeStatus: 'skipped', ingestStatus: 'completed', updatedAt: sql`now()` })
    .where(and(eq(traces.id, id), eq(traces.ingestRound, round), isNull(traces.reviewResult)));
}

/** A new round of judge attempts for an unreviewed trace whose judge failed (POST /v1/traces/{id}/retry). */
export async function requeueFailedJudge(db: Db, projectId: string, id: string): Promise<TraceRow | undefined> {
  const [row] = await db
    .update(traces)
    .set({
      judgeStatus: 'queued',
      judgeAttempts: 0,
      ingestStatus: 'queued',
      ingestAttempts: 0,
      ingestRound: sql`${traces.ingestRound} + 1`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(traces.id, id),
        eq(traces.projectId, projectId),
        isNull(traces.reviewResult),
        eq(traces.judgeStatus, 'failed'),
        eq(traces.ingestStatus, 'completed'),
      ),
    )
    .returning();
  return row;
}

/**
 * The traces the judge's backlog is made of: unreviewed, no live review-queue lease (someone is
 * reviewing it), never looked at by the judge (failed ones have /retry, skipped ones were let go
 * on purpose), nothing in flight, and matching the judge's metadata filter. The review queue's
 * partial index (project, created_at, id WHERE review_result IS NULL) serves it.
 */
function backlogOf(projectId: string, filter: Record<string, unknown> | null): SQL {
  return sql`project_id = ${projectId} AND review_result IS NULL AND judge_status IS NULL
    AND ingest_status = 'completed' AND (lease_expires_at IS NULL OR lease_expires_at <= now())
    ${filter ? sql`AND metadata @> ${JSON.stringify(filter)}::jsonb` : sql``}`;
}

/** How many traces POST …/judge/backlog would queue (without its limit). */
export async function countJudgeBacklog(db: Db, projectId: string, filter: Record<string, unknown> | null): Promise<number> {
  const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM traces WHERE ${backlogOf(projectId, filter)}`);
  return Number(rows[0]!.n);
}

/**
 * Queues the judge for the newest `limit` traces of the backlog, in one statement: each gets a new
 * round (its own job id) and the state a judged-on-arrival trace has. Two calls never queue a trace
 * twice: the candidates are locked (SKIP LOCKED: another call's are passed over) and the UPDATE
 * re-checks the backlog condition on the locked row, so a trace queued meanwhile is not counted.
 */
export async function queueJudgeBacklog(
  db: Db,
  projectId: string,
  filter: Record<string, unknown> | null,
  limit: number,
): Promise<Array<{ id: string; ingestRound: number }>> {
  const { rows } = await db.execute<{ id: string; ingest_round: number }>(sql`
    WITH target AS (
      SELECT id FROM traces
      WHERE ${backlogOf(projectId, filter)}
      ORDER BY created_at DESC, id DESC
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), queued AS (
      UPDATE traces t
      SET judge_status = 'queued', judge_attempts = 0, ingest_status = 'queued', ingest_attempts = 0,
        ingest_round = t.ingest_round + 1, updated_at = now()
      FROM target
      WHERE t.id = target.id AND ${backlogOf(projectId, filter)}
      RETURNING t.id, t.ingest_round, t.created_at
    )
    SELECT id, ingest_round FROM queued ORDER BY created_at DESC, id DESC
  `);
  return rows.map((r) => ({ id: r.id, ingestRound: Number(r.ingest_round) }));
}
