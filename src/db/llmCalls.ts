import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { KeysetPosition } from '../http/cursor.js';
import type { Db } from './client.js';
import { llmCalls, type LlmCallRow } from './schema.js';

export interface NewLlmCall {
  projectId: string | null;
  purpose: string;
  model: string;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number;
  outcome: 'ok' | 'error';
  error: string | null;
  traceId: string | null;
  requestId: string | null;
}

/** One row; a call made for a trace belongs to the trace's project when none was given. */
export async function insertLlmCall(db: Db, c: NewLlmCall): Promise<void> {
  await db.execute(sql`
    INSERT INTO llm_calls (project_id, purpose, model, tokens_in, tokens_out, latency_ms, outcome, error, trace_id, request_id)
    SELECT coalesce(${c.projectId}::uuid, t.project_id), ${c.purpose}, ${c.model}, ${c.tokensIn}, ${c.tokensOut}, ${c.latencyMs},
           ${c.outcome}, ${c.error}, t.id, ${c.requestId}
    FROM (SELECT ${c.traceId}::uuid AS wanted) w LEFT JOIN traces t ON t.id = w.wanted
  `);
}

export interface LlmCallFilter {
  purpose?: string;
  outcome?: 'ok' | 'error';
  createdAfter?: Date;
  createdBefore?: Date;
}

export type LlmCallView = LlmCallRow & { position: string };

/** Newest first, keyset on (project_id, created_at desc, id desc). */
export async function listLlmCalls(
  db: Db,
  projectId: string,
  filter: LlmCallFilter,
  page: { limit: number; after?: KeysetPosition },
): Promise<{ rows: LlmCallView[]; next: KeysetPosition | undefined }> {
  const conditions: (SQL | undefined)[] = [
    eq(llmCalls.projectId, projectId),
    filter.purpose ? eq(llmCalls.purpose, filter.purpose) : undefined,
    filter.outcome ? eq(llmCalls.outcome, filter.outcome) : undefined,
    filter.createdAfter ? gte(llmCalls.createdAt, filter.createdAfter) : undefined,
    filter.createdBefore ? lt(llmCalls.createdAt, filter.createdBefore) : undefined,
    page.after ? sql`(${llmCalls.createdAt}, ${llmCalls.id}) < (${page.after.createdAt}::timestamptz, ${page.after.id}::uuid)` : undefined,
  ];
  const rows = await db
    .select({ row: llmCalls, position: sql<string>`${llmCalls.createdAt}::text` })
    .from(llmCalls)
    .where(and(...conditions))
    .orderBy(desc(llmCalls.createdAt), desc(llmCalls.id))
    .limit(page.limit + 1);
  const views = rows.slice(0, page.limit).map((r) => ({ ...r.row, position: r.position }));
  const last = views.at(-1);
  return { rows: views, next: rows.length > page.limit && last ? { createdAt: last.position, id: last.id } : undefined };
}

/** Deletes rows older than `days` days; returns how many. */
export async function pruneLlmCalls(db: Db, days: number): Promise<number> {
  const rows = await db
    .delete(llmCalls)
    .where(lt(llmCalls.createdAt, sql`now() - make_interval(days => ${days})`))
    .returning({ id: llmCalls.id });
  return rows.length;
}
