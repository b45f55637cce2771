import { sql } from 'drizzle-orm';
import type { Db } from './client.js';

export interface ProjectTotals {
  traces: number;
  pendingReviews: number;
  passed: number;
  failed: number;
  memories: number;
}

export interface DayFigures {
  date: string;
  pass: number;
  fail: number;
  memoriesCreated: number;
  llmCalls: number;
  tokensIn: number;
  tokensOut: number;
}

/** The overview's totals: one pass over the project's traces, one count of its memories. */
export async function projectTotals(db: Db, projectId: string): Promise<ProjectTotals> {
  const { rows } = await db.execute<{ traces: number; pending: number; passed: number; failed: number; memories: number }>(sql`
    SELECT count(*)::int AS traces,
           count(*) FILTER (WHERE review_result IS NULL)::int AS pending,
           count(*) FILTER (WHERE review_result = 'pass')::int AS passed,
           count(*) FILTER (WHERE review_result = 'fail')::int AS failed,
           (SELECT count(*)::int FROM memories WHERE project_id = ${projectId}) AS memories
    FROM traces WHERE project_id = ${projectId}
  `);
  const r = rows[0]!;
  return { traces: r.traces, pendingReviews: r.pending, passed: r.passed, failed: r.failed, memories: r.memories };
}

/**
 * Per UTC day, the last `days` days up to today: reviews by result (by when the review was
 * given), memories created, LLM calls and their tokens. Days without activity are zeros.
 */
export async function dailyFigures(db: Db, projectId: string, days: number): Promise<DayFigures[]> {
  const { rows } = await db.execute<{
    date: string;
    pass: number;
    fail: number;
    memories_created: number;
    llm_calls: number;
    tokens_in: number;
    tokens_out: number;
  }>(sql`
    WITH bounds AS (
      SELECT (now() AT TIME ZONE 'UTC')::date - ${days - 1}::int AS first_day
    ), since AS (
      SELECT (first_day::timestamp AT TIME ZONE 'UTC') AS at, first_day FROM bounds
    ), reviews AS (
      SELECT (reviewed_at AT TIME ZONE 'UTC')::date AS day,
             count(*) FILTER (WHERE review_result = 'pass')::int AS pass,
             count(*) FILTER (WHERE review_result = 'fail')::int AS fail
      FROM traces, since
      WHERE project_id = ${projectId} AND review_result IS NOT NULL AND reviewed_at >= since.at
      GROUP BY 1
    ), created AS (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS n
      FROM memories, since
      WHERE project_id = ${projectId} AND created_at >= since.at
      GROUP BY 1
    ), calls AS (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS n,
             coalesce(sum(tokens_in), 0)::int AS tokens_in, coalesce(sum(tokens_out), 0)::int AS tokens_out
      FROM llm_calls, since
      WHERE project_id = ${projectId} AND created_at >= since.at
      GROUP BY 1
    )
    SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
           coalesce(r.pass, 0) AS pass, coalesce(r.fail, 0) AS fail,
           coalesce(c.n, 0) AS memories_created,
           coalesce(l.n, 0) AS llm_calls, coalesce(l.tokens_in, 0) AS tokens_in, coalesce(l.tokens_out, 0) AS tokens_out
    FROM since, generate_series(since.first_day, since.first_day + ${days - 1}::int, interval '1 day') AS g(ts)
    CROSS JOIN LATERAL (SELECT g.ts::date AS day) d
    LEFT JOIN reviews r ON r.day = d.day
    LEFT JOIN created c ON c.day = d.day
    LEFT JOIN calls l ON l.day = d.day
    ORDER BY d.day
  `);
  return rows.map((r) => ({
    date: r.date,
    pass: r.pass,
    fail: r.fail,
    memoriesCreated: r.memories_created,
    llmCalls: r.llm_calls,
    tokensIn: r.tokens_in,
    tokensOut: r.tokens_out,
  }));
}

/** Memories per Q-value bucket: `buckets` equal widths over [0, 1], the last one closed. */
export async function qHistogram(db: Db, projectId: string, buckets: number): Promise<number[]> {
  const { rows } = await db.execute<{ bucket: number; n: number }>(sql`
    SELECT least(width_bucket(q_value, 0, 1, ${buckets}::int), ${buckets}::int) AS bucket, count(*)::int AS n
    FROM memories WHERE project_id = ${projectId}
    GROUP BY 1
  `);
  const counts = new Array<number>(buckets).fill(0);
  for (const r of rows) counts[Math.max(1, r.bucket) - 1]! += r.n;
  return counts;
}
