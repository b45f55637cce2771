import { describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { defaultChat, type ChatRequestBody, type ScriptedReply } from '../support/fakeOpenAI.js';
import { createTrace, getMemory, uniqueTask, useLoopApp, useSharedDatabase, waitForTrace, type LoopFixture } from '../support/learning.js';
import { transports } from '../support/redis.js';

// Consolidation through the real learning loop: a reviewed run whose lesson is a near-duplicate
// of a live memory (same project and outcome, task cosine ≥ threshold) merges into it.

let merges = 0;
/** The fake LLM: merge prompts get a numbered merged lesson, everything else the default reflection. */
function chat(body: ChatRequestBody): ScriptedReply {
  const system = body.messages?.find((m) => m.role === 'system')?.content;
  if (typeof system === 'string' && system.includes('Two runs of nearly the same task')) {
    merges += 1;
    return {
      content: JSON.stringify({
        reflection: `Merged lesson #${merges}: covers every run so far.`,
        summary: 'merged',
        key_mistake: '',
        correct_action: 'Keep doing it.',
        guidance: 'Same as before.',
        applicable_tools: ['merged_tool'],
        tools_used: [],
      }),
    };
  }
  return defaultChat(body);
}

interface HistoryEntry {
  kind: string;
  trace_id: string | null;
  q_before: number;
  q_after: number;
  actor: { type: string };
  detail: Record<string, unknown>;
}

async function history(f: LoopFixture, id: string, project?: string): Promise<HistoryEntry[]> {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/memories/${id}/history`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as HistoryEntry[];
}

async function memoriesWithTask(f: LoopFixture, task: string): Promise<{ id: string; evidence_count: number; source_trace_ids: string[] }[]> {
  const { rows } = await f.t.app.database.pool.query('select id, evidence_count, source_trace_ids from memories where task = $1 order by created_at', [task]);
  return rows;
}

async function reviewed(f: LoopFixture, task: string, result: string, extra: Record<string, unknown> = {}, project?: string) {
  const id = await createTrace(f, { task, trajectory: [{ role: 'assistant', content: 'done' }], review_result: result, ...extra }, project);
  const trace = await waitForTrace(f, id, undefined, project);
  expect(trace.ingest_status, trace.last_ingest_error ?? '').toBe('completed');
  return trace;
}

async function settings(f: LoopFixture, project: string, body: Record<string, unknown>) {
  const res = await f.t.call(f.key, { method: 'PATCH', url: `/v1/projects/${project}/settings`, payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const database = useSharedDatabase();

// The blocks below share project `default` and tell their runs apart by uniqueTask() alone, so
// unrelated tasks must never reach the merge threshold. The fake's default 8-d hash vectors do
// (cosine ≥ 0.92 for about 1 pair in 3,000): then a run merges into another test's memory.
// In 64 dimensions two such vectors have cosine ≈ 0 ± 0.125, so 0.92 is out of reach.
const UNRELATED_TASK_DIMENSIONS = 64;

describe.each(transports())('consolidation with an LLM ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, { database, fake: { chat, embeddingDimensions: UNRELATED_TASK_DIMENSIONS }, env: { REFLECT_WORKER_CONCURRENCY: '8', Q_LEARNING_ALPHA: '0.5' } });

  it('merges a near-duplicate into the live memory: one memory, evidence, sources, the LLM’s text, its Q and history kept', async () => {
    const task = uniqueTask('Export the invoices as CSV');
    const first = await reviewed(f, task, 'pass');
    const memoryId = first.created_memory_id!;
    // The second run retrieved the first's memory and passed: its Q moves, and its lesson merges in.
    const second = await reviewed(f, task, 'pass', { retrieved_memory_ids: [memoryId] });

    expect(second.created_memory_id).toBe(memoryId);
    const memory = await getMemory(f, memoryId);
    expect(memory).toMatchObject({
      evidence_count: 2,
      source_trace_ids: [first.id, second.id],
      source_trace_id: first.id,
      q_value: 0.75,
      state: 'active',
      correct_action: 'Keep doing it.',
    });
    expect(memory.reflection).toMatch(/^Merged lesson #\d+: covers every run so far\.$/);
    expect(memory.applicable_tools).toContain('merged_tool');
    expect(await memoriesWithTask(f, task)).toHaveLength(1);

    const entries = await history(f, memoryId);
    expect(entries.map((e) => e.kind).sort()).toEqual(['merge', 'q_update']);
    const merge = entries.find((e) => e.kind === 'merge')!;
    expect(merge).toMatchObject({ trace_id: second.id, actor: { type: 'learning_loop' }, detail: { evidence_count: 2, source: 'llm' } });
    expect(merge.detail.reflection_before).toMatch(/run passed/);
    // The merge's LLM call is in the usage log, as this trace's memory merge.
    await eventually(async () => {
      const { rows } = await f.t.app.database.pool.query("select outcome from llm_calls where purpose = 'memory_merge' and trace_id = $1", [second.id]);
      return rows.length === 1 && rows[0].outcome === 'ok' ? true : undefined;
    });

    // A run of the same task that failed is another lesson: a memory of its own.
    const failed = await reviewed(f, task, 'fail');
    expect(failed.created_memory_id).not.toBe(memoryId);
    expect(await memoriesWithTask(f, task)).toHaveLength(2);
  });

  it('never merges into an invalidated memory', async () => {
    const task = uniqueTask('Rotate the logs');
    const first = await reviewed(f, task, 'pass');
    const res = await f.t.call(f.key, { method: 'POST', url: `/v1/memories/${first.created_memory_id}/invalidate`, payload: { reason: 'wrong' } });
    expect(res.statusCode).toBe(200);
    const second = await reviewed(f, task, 'pass');
    expect(second.created_memory_id).not.toBe(first.created_memory_id);
    expect((await getMemory(f, first.created_memory_id!)).evidence_count).toBe(1);
  });

  it('concurrent reviews of the same task end in one memory holding every run exactly once', async () => {
    f.fake.latencyMs = 100;
    const task = uniqueTask('Summarise the weekly sales');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createTrace(f, { task, trajectory: [{ role: 'assistant', content: `${i}` }] }));
    const responses = await Promise.all(ids.map((id) => f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result: 'pass' } })));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(6).fill(200));
    const traces = await Promise.all(ids.map((id) => waitForTrace(f, id)));
    f.fake.latencyMs = 0;

    expect(traces.map((t) => t.ingest_status)).toEqual(Array(6).fill('completed'));
    const stored = await memoriesWithTask(f, task);
    expect(stored).toHaveLength(1);
    const [memory] = stored;
    expect(memory!.evidence_count).toBe(6);
    expect([...memory!.source_trace_ids].sort()).toEqual([...ids].sort());
    expect(new Set(traces.map((t) => t.created_memory_id))).toEqual(new Set([memory!.id]));
    const merges = (await history(f, memory!.id)).filter((e) => e.kind === 'merge');
    expect(merges).toHaveLength(5);
    expect(merges.map((m) => m.detail.evidence_count)).toEqual([2, 3, 4, 5, 6]);
  });

  it('a failed merge call is retried by the job, and the run still lands exactly once', async () => {
    const task = uniqueTask('Back up the database');
    const first = await reviewed(f, task, 'pass');
    // The second run's reflection succeeds, its merge call fails; the retry redoes both.
    f.fake.enqueue((body) => defaultChat(body), { status: 500 });
    const second = await reviewed(f, task, 'pass');
    expect(second.ingest_attempts).toBe(2);
    expect(second.created_memory_id).toBe(first.created_memory_id);
    expect(await getMemory(f, first.created_memory_id!)).toMatchObject({ evidence_count: 2, source_trace_ids: [first.id, second.id] });
    expect((await history(f, first.created_memory_id!)).filter((e) => e.kind === 'merge')).toHaveLength(1);
  });

  it('a project can turn consolidation off, or raise its threshold; null goes back to the default', async () => {
    const project = `consolidation-settings-${transport}`;
    const before = await f.t.call(f.key, { method: 'GET', url: `/v1/projects/${project}/settings`, project });
    expect(before.statusCode).toBe(404); // not created by reading its settings
    await createTrace(f, { task: 'warm-up', trajectory: [] }, project);
    expect((await f.t.call(f.key, { method: 'GET', url: `/v1/projects/${project}/settings` })).json()).toMatchObject({
      slug: project,
      consolidation_enabled: null,
      consolidation_threshold: null,
      effective: { consolidation_enabled: true, consolidation_threshold: 0.92 },
    });

    expect(await settings(f, project, { consolidation_enabled: false })).toMatchObject({ consolidation_enabled: false, effective: { consolidation_enabled: false } });
    const task = uniqueTask('Close the sprint');
    const a = await reviewed(f, task, 'pass', {}, project);
    const b = await reviewed(f, task, 'pass', {}, project);
    expect(a.created_memory_id).not.toBe(b.created_memory_id);

    const back = await settings(f, project, { consolidation_enabled: null });
    expect(back).toMatchObject({ consolidation_enabled: null, effective: { consolidation_enabled: true } });
    const c = await reviewed(f, task, 'pass', {}, project);
    expect([a.created_memory_id, b.created_memory_id]).toContain(c.created_memory_id);

    const rejected = await f.t.call(f.key, { method: 'PATCH', url: `/v1/projects/${project}/settings`, payload: { consolidation_threshold: 1.5 } });
    expect(rejected.statusCode).toBe(422);
    expect((await f.t.call(f.key, { method: 'PATCH', url: `/v1/projects/${project}/settings`, payload: {} })).statusCode).toBe(422);
    expect((await f.t.call(f.key, { method: 'GET', url: `/v1/projects/${project}/settings` })).json().consolidation_enabled).toBeNull();
  });
});

describe('consolidation thresholds by cosine', () => {
  // Fixed task vectors: cosine("near"·"base") = 0.95, cosine("far"·"base") = 0.8. Same width as the
  // other blocks' vectors: the model's vector index, shared through the database, has one width.
  const padded = (head: number[]) => [...head, ...Array<number>(UNRELATED_TASK_DIMENSIONS - head.length).fill(0)];
  const base = padded([1, 0, 0]);
  const near = padded([0.95, Math.sqrt(1 - 0.95 ** 2), 0]);
  const far = padded([0.8, 0, 0.6]);
  const f = useLoopApp('embedded', {
    database,
    fake: {
      chat,
      embeddingDimensions: UNRELATED_TASK_DIMENSIONS,
      vectors: { 'threshold base task': base, 'threshold near task': near, 'threshold far task': far },
    },
  });

  it('merges at or above the project’s threshold and not below it', async () => {
    const project = 'consolidation-threshold';
    const a = await reviewed(f, 'threshold base task', 'pass', {}, project);
    const b = await reviewed(f, 'threshold far task', 'pass', {}, project);
    expect(b.created_memory_id).not.toBe(a.created_memory_id); // 0.8 < 0.92
    const c = await reviewed(f, 'threshold near task', 'pass', {}, project);
    expect(c.created_memory_id).toBe(a.created_memory_id); // 0.95 ≥ 0.92

    await settings(f, project, { consolidation_threshold: 0.99 });
    const d = await reviewed(f, 'threshold near task', 'fail', {}, project);
    const e = await reviewed(f, 'threshold base task', 'fail', {}, project);
    expect(e.created_memory_id).not.toBe(d.created_memory_id); // 0.95 < 0.99
    await settings(f, project, { consolidation_threshold: 0.75 });
    const g = await reviewed(f, 'threshold far task', 'fail', {}, project);
    expect([d.created_memory_id, e.created_memory_id]).toContain(g.created_memory_id); // 0.8 ≥ 0.75
  });
});

describe('consolidation without an LLM key', () => {
  const f = useLoopApp('embedded', { database, llm: false, fake: { embeddingDimensions: UNRELATED_TASK_DIMENSIONS } });

  it('merges with the template: both lessons’ distinct sentences and the number of runs', async () => {
    const task = uniqueTask('Renew the certificate');
    const first = await reviewed(f, task, 'fail', { feedback_text: 'Use the staging CA first' });
    const second = await reviewed(f, task, 'fail', { feedback_text: 'Restart nginx afterwards' });
    expect(second.created_memory_id).toBe(first.created_memory_id);
    const memory = await getMemory(f, first.created_memory_id!);
    expect(memory.evidence_count).toBe(2);
    expect(memory.reflection).toContain('Use the staging CA first');
    expect(memory.reflection).toContain('Restart nginx afterwards');
    expect(memory.reflection).toMatch(/\(Seen in 2 runs\.\)$/);
    const merge = (await history(f, first.created_memory_id!)).find((e) => e.kind === 'merge')!;
    expect(merge.detail.source).toBe('template');
  });
});
