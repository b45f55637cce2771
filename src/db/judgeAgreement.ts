import { sql } from 'drizzle-orm';
import type { Db } from './client.js';

/** Judge × human verdict counts of a project's judged traces in a window. */
export interface AgreementCounts {
  judged: number;
  passPass: number;
  passFail: number;
  failPass: number;
  failFail: number;
}

export interface DisagreementRow {
  traceId: string;
  task: string;
  judgeResult: 'pass' | 'fail';
  judgeReason: string | null;
  humanResult: 'pass' | 'fail';
  humanFeedback: string | null;
  reviewerKeyId: string | null;
  reviewerLabel: string | null;
  judgedAt: Date;
  reviewedAt: Date | null;
}

export interface AgreementWindow {
  since: Date;
  until: Date;
}

/**
 * One pass over the judged traces of the window (the partial index on (project_id, judged_at)):
 * how many the judge decided, and the confusion matrix of those whose review in force is a human
 * one (review_result is the human's verdict then; judge_result keeps the judge's).
 */
export async function agreementCounts(db: Db, projectId: string, window: AgreementWindow): Promise<AgreementCounts> {
  const { rows } = await db.execute<{ judged: number; pp: number; pf: number; fp: number; ff: number }>(sql`
    SELECT count(*)::int AS judged,
           count(*) FILTER (WHERE review_source = 'human' AND judge_result = 'pass' AND review_result = 'pass')::int AS pp,
           count(*) FILTER (WHERE review_source = 'human' AND judge_result = 'pass' AND review_result = 'fail')::int AS pf,
           count(*) FILTER (WHERE review_source = 'human' AND judge_result = 'fail' AND review_result = 'pass')::int AS fp,
           count(*) FILTER (WHERE review_source = 'human' AND judge_result = 'fail' AND review_result = 'fail')::int AS ff
    FROM traces
    WHERE project_id = ${projectId} AND judge_result IS NOT NULL
      AND judged_at >= ${window.since.toISOString()}::timestamptz AND judged_at < ${window.until.toISOString()}::timestamptz
  `);
  const r = rows[0]!;
  return { judged: r.judged, passPass: r.pp, passFail: r.pf, failPass: r.fp, failFail: r.ff };
}

/** The window's pairs whose verdicts differ, newest human review first. */
export async function disagreements(db: Db, projectId: string, window: AgreementWindow, limit: number, taskChars: number): Promise<DisagreementRow[]> {
  const { rows } = await db.execute<{
    trace_id: string;
    task: string;
    judge_result: 'pass' | 'fail';
    judge_reason: string | null;
    human_result: 'pass' | 'fail';
    human_feedback: string | null;
    reviewer_key_id: string | null;
    reviewer_label: string | null;
    // A Date or PostgreSQL's text, depending on the driver.
    judged_at: Date | string;
    reviewed_at: Date | string | null;
  }>(sql`
    SELECT t.id AS trace_id, left(t.task, ${taskChars}::int) AS task,
           t.judge_result, t.judge_reason, t.review_result AS human_result, t.review_feedback AS human_feedback,
           k.id AS reviewer_key_id, k.label AS reviewer_label, t.judged_at, t.reviewed_at
    FROM traces t
    LEFT JOIN api_keys k ON k.id = t.reviewed_by_key_id
    WHERE t.project_id = ${projectId} AND t.judge_result IS NOT NULL
      AND t.judged_at >= ${window.since.toISOString()}::timestamptz AND t.judged_at < ${window.until.toISOString()}::timestamptz
      AND t.review_source = 'human' AND t.review_result IS NOT NULL AND t.review_result <> t.judge_result
    ORDER BY t.reviewed_at DESC NULLS LAST, t.id DESC
    LIMIT ${limit}::int
  `);
  return rows.map((r) => ({
    traceId: r.trace_id,
    task: r.task,
    judgeResult: r.judge_result,
    judgeReason: r.judge_reason,
    humanResult: r.human_result,
    humanFeedback: r.human_feedback,
    reviewerKeyId: r.reviewer_key_id,
    reviewerLabel: r.reviewer_label,
    judgedAt: new Date(r.judged_at),
    reviewedAt: r.reviewed_at === null ? null : new Date(r.reviewed_at),
  }));
}
