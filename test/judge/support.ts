/** Helpers of the judge tests: a project with its judge set over the API, and traces sent to it. */
import { expect } from 'vitest';
import { JUDGE_PROMPT_START } from '../../src/judge/judgePrompt.js';
import type { TraceWire } from '../../src/traces/models.js';
import { eventually } from '../support/app.js';
import { getTrace, type LoopFixture } from '../support/learning.js';

export const RUBRIC = 'Pass only if the final answer is correct and complete.';

/** Creates the project (a master key creates it on first use) and PATCHes its judge. */
export async function judgeProject(f: LoopFixture, slug: string, settings: Record<string, unknown>): Promise<Record<string, unknown>> {
  const created = await f.t.call(f.key, { method: 'GET', url: '/v1/traces?limit=1', project: slug });
  expect(created.statusCode, created.body).toBe(200);
  const res = await f.t.call(f.key, { method: 'PATCH', url: `/v1/projects/${slug}/judge`, payload: settings });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Record<string, unknown>;
}

/** POST /v1/traces; returns the id and the ingest status it was given. */
export async function submit(f: LoopFixture, body: Record<string, unknown>, project: string): Promise<{ id: string; ingestStatus: string }> {
  const res = await f.t.call(f.key, { method: 'POST', url: '/v1/traces', payload: body, project });
  expect(res.statusCode, res.body).toBe(202);
  const json = res.json() as { id: string; ingest_status: string };
  return { id: json.id, ingestStatus: json.ingest_status };
}

/** Polls the trace until `done` holds. */
export function traceWhen(f: LoopFixture, id: string, project: string, done: (t: TraceWire) => boolean): Promise<TraceWire> {
  return eventually(async () => {
    const trace = await getTrace(f, id, project);
    return done(trace) ? trace : undefined;
  }, 20_000);
}

/** The trace's rows in q_value_updates, oldest first. */
export async function qUpdatesOfTrace(f: LoopFixture, traceId: string) {
  const { rows } = await f.t.app.database.pool.query(
    'select memory_id, q_before, q_after, reward, alpha, review_source from q_value_updates where trace_id = $1 order by created_at, id',
    [traceId],
  );
  return rows as Array<{ memory_id: string; q_before: number; q_after: number; reward: number; alpha: number; review_source: string }>;
}

/** Chat requests of the server's judge that mention `marker`. */
export function judgeRequestsAbout(f: LoopFixture, marker: string) {
  return f.fake.requests.filter((r) => {
    if (r.path !== '/v1/chat/completions') return false;
    const messages = (r.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? [];
    const system = messages.find((m) => m.role === 'system')?.content;
    const user = messages.find((m) => m.role === 'user')?.content;
    return typeof system === 'string' && system.startsWith(JUDGE_PROMPT_START) && typeof user === 'string' && user.includes(marker);
  });
}

/** GET /v1/llm-calls of the project for one purpose. */
export async function llmCallsOf(f: LoopFixture, project: string, purpose: string) {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/llm-calls?purpose=${purpose}&limit=200`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Array<{ purpose: string; trace_id: string | null; outcome: string; model: string }>;
}
