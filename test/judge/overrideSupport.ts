/** Helpers of the override tests: judge-reviewed traces through the real judge, chains, and a replay model. */
import { expect } from 'vitest';
import type { TraceWire } from '../../src/traces/models.js';
import { eventually } from '../support/app.js';
import { getTrace, type LoopFixture } from '../support/learning.js';
import { submit, traceWhen } from './support.js';

export interface ChainRow {
  id: string;
  trace_id: string;
  q_before: number;
  q_after: number;
  reward: number;
  alpha: number;
  review_source: string;
  overridden: Record<string, number> | null;
}

/** A memory's q_value_updates in the order they were applied. */
export async function chainOf(f: LoopFixture, memoryId: string): Promise<ChainRow[]> {
  const { rows } = await f.t.app.database.pool.query(
    'select id, trace_id, q_before, q_after, reward, alpha, review_source, overridden from q_value_updates where memory_id = $1 order by created_at, id',
    [memoryId],
  );
  return rows as ChainRow[];
}

export async function qOf(f: LoopFixture, memoryId: string): Promise<number> {
  const { rows } = await f.t.app.database.pool.query('select q_value from memories where id = $1', [memoryId]);
  return rows[0].q_value as number;
}

/** Each update starts where the previous one ended, from 0.5, and the last one is the memory's q. */
export async function expectConsistentChain(f: LoopFixture, memoryId: string): Promise<ChainRow[]> {
  const chain = await chainOf(f, memoryId);
  let q = 0.5;
  for (const row of chain) {
    expect(row.q_before, `chain of ${memoryId} continues from ${q}`).toBe(q);
    q = row.q_after;
  }
  expect(await qOf(f, memoryId)).toBe(q);
  return chain;
}

/** The textbook update, written out again here (not imported) so the test does not check the code against itself. */
export function replay(updates: { reward: number; alpha: number }[], start = 0.5): number {
  let q = start;
  for (const u of updates) q = q + u.alpha * (u.reward - q);
  return q;
}

export function expectQ(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThan(1e-12);
}

/** A trace whose task makes the fake's default judge say `verdict` (it fails tasks that mention failing). */
export function judgedTask(label: string, verdict: 'pass' | 'fail'): string {
  const tag = Math.random().toString(36).slice(2, 8);
  return verdict === 'fail' ? `${label} ${tag}: this run should fail` : `${label} ${tag}: this run should pass`;
}

/** Sends an unreviewed trace to a project whose judge is on and waits until the judge's review is applied. */
export async function judgedTrace(
  f: LoopFixture,
  project: string,
  body: { task: string; retrieved_memory_ids?: string[]; alpha?: number },
): Promise<TraceWire> {
  const sent = await submit(
    f,
    { ...body, trajectory: [{ role: 'user', content: body.task }, { role: 'assistant', content: 'Done.' }], final_response: 'Done.' },
    project,
  );
  expect(sent.ingestStatus).toBe('queued');
  return traceWhen(f, sent.id, project, (t) => t.review_status === 'reviewed' && t.ingest_status === 'completed');
}

/** Waits until no trace of the database is queued or processing (every job of the test is over). */
export async function settled(f: LoopFixture): Promise<void> {
  await eventually(async () => {
    const { rows } = await f.t.app.database.pool.query("select count(*)::int as n from traces where ingest_status in ('queued', 'processing')");
    return rows[0].n === 0 ? true : undefined;
  }, 20_000);
}

export async function traceNow(f: LoopFixture, id: string, project: string): Promise<TraceWire> {
  return getTrace(f, id, project);
}

/** POST /v1/traces/{id}/review. */
export function postReview(f: LoopFixture, id: string, project: string, body: Record<string, unknown>) {
  return f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: body, project });
}

export async function historyOf(f: LoopFixture, memoryId: string, project: string): Promise<Array<Record<string, any>>> {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/memories/${memoryId}/history`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Array<Record<string, any>>;
}
