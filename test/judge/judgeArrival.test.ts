import { describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { judgeVerdict } from '../support/fakeOpenAI.js';
import { createMemory, getMemory, getTrace, memoriesOfTrace, uniqueTask, useLoopApp, useSharedDatabase } from '../support/learning.js';
import { transports } from '../support/redis.js';
import { judgeProject, judgeRequestsAbout, llmCallsOf, qUpdatesOfTrace, RUBRIC, submit, traceWhen } from './support.js';

const database = useSharedDatabase();
const run = (task: string) => ({
  task,
  trajectory: [
    { role: 'user', content: task },
    { role: 'assistant', content: 'The total is 41.' },
  ],
  final_response: 'The total is 41.',
  reference_context: 'The correct total is 42.',
});

// Q_LEARNING_ALPHA 0.3: a review applied with it cannot be mistaken for the judge's 0.1.
describe.each(transports())('the judge on arrival ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, { env: { Q_LEARNING_ALPHA: '0.3' }, database });

  it("judges an unreviewed trace and applies the verdict as the judge's review, with the judge's alpha", async () => {
    const project = `judge-arrival-${transport}`;
    const settings = await judgeProject(f, project, { enabled: true, rubric: RUBRIC });
    expect(settings).toMatchObject({ enabled: true, alpha: null, effective: { alpha: 0.1, model: f.t.config.llm.model } });
    const m = await createMemory(f, uniqueTask('Retrieved lesson'), project);
    const task = uniqueTask('Sum the invoice');
    f.fake.enqueueJudge(judgeVerdict('fail', 'The total is 41, the reference says 42.'));

    const sent = await submit(f, { ...run(task), retrieved_memory_ids: [m] }, project);
    expect(sent.ingestStatus).toBe('queued');
    const trace = await traceWhen(f, sent.id, project, (t) => t.review_status === 'reviewed');

    expect(trace.review).toMatchObject({
      result: 'fail',
      feedback_text: 'The total is 41, the reference says 42.',
      alpha: 0.1,
      source: 'judge',
      reviewer: null,
      overridden_at: null,
    });
    expect(trace.judge).toMatchObject({
      status: 'judged',
      result: 'fail',
      reason: 'The total is 41, the reference says 42.',
      model: f.t.config.llm.model,
      attempts: 1,
      error: null,
    });
    expect(trace.judge!.judged_at).not.toBeNull();
    expect(trace.ingest_status).toBe('completed');
    // The normal path ran: a memory of the failed run, and the retrieved memory moved by 0.1·(0 − 0.5).
    expect(trace.created_memory_id).not.toBeNull();
    expect(await memoriesOfTrace(f, sent.id)).toBe(1);
    expect((await getMemory(f, trace.created_memory_id!, project)).success).toBe(false);
    expect((await getMemory(f, m, project)).q_value).toBeCloseTo(0.45, 12);
    const updates = await qUpdatesOfTrace(f, sent.id);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ memory_id: m, reward: 0, alpha: 0.1, review_source: 'judge' });

    // The judge saw the task, the run, the reference and the rubric, and asked for the fixed JSON shape.
    const [request] = judgeRequestsAbout(f, task);
    const messages = (request!.body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(messages[0]!.content).toContain(RUBRIC);
    expect(messages[0]!.content).toContain('"verdict"');
    expect(messages[1]!.content).toContain('<reference_context>\nThe correct total is 42.');
    expect(messages[1]!.content).toContain('<final_response>\nThe total is 41.');
    expect(messages[1]!.content).toContain('assistant');
    // Its call is in the usage log as the judge's, for this trace.
    const calls = await eventually(async () => {
      const rows = (await llmCallsOf(f, project, 'judge')).filter((c) => c.trace_id === sent.id);
      return rows.length > 0 ? rows : undefined;
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ purpose: 'judge', outcome: 'ok' });
  });

  it('judges only traces whose metadata contains the filter, and no trace sent with a review', async () => {
    const project = `judge-filter-${transport}`;
    const settings = await judgeProject(f, project, { enabled: true, rubric: RUBRIC, alpha: 0.2, metadata_filter: { env: 'prod' } });
    expect(settings).toMatchObject({ alpha: 0.2, metadata_filter: { env: 'prod' }, effective: { alpha: 0.2 } });

    const matching = uniqueTask('Prod run');
    const other = uniqueTask('Dev run');
    const reviewed = uniqueTask('Reviewed prod run');
    const a = await submit(f, { ...run(matching), metadata: { env: 'prod', team: 'billing' } }, project);
    const b = await submit(f, { ...run(other), metadata: { env: 'dev' } }, project);
    const c = await submit(f, { ...run(reviewed), metadata: { env: 'prod' }, review_result: 'pass' }, project);
    expect([a.ingestStatus, b.ingestStatus, c.ingestStatus]).toEqual(['queued', 'completed', 'queued']);

    const judged = await traceWhen(f, a.id, project, (t) => t.review_status === 'reviewed');
    expect(judged.review).toMatchObject({ result: 'pass', source: 'judge', alpha: 0.2 });
    const human = await traceWhen(f, c.id, project, (t) => t.review_status === 'reviewed');
    expect(human.review).toMatchObject({ source: 'human', alpha: 0.3 });
    expect(human.judge).toBeNull();
    const skipped = await getTrace(f, b.id, project);
    expect(skipped).toMatchObject({ review: null, judge: null, review_status: 'pending', ingest_status: 'completed' });
    expect(judgeRequestsAbout(f, other)).toHaveLength(0);
    expect(judgeRequestsAbout(f, reviewed)).toHaveLength(0);
    expect(judgeRequestsAbout(f, matching)).toHaveLength(1);

    // The list filters by whose review is in force and by the judge's status.
    const list = async (query: string) => {
      const res = await f.t.call(f.key, { method: 'GET', url: `/v1/traces?${query}`, project });
      expect(res.statusCode, res.body).toBe(200);
      return { ids: (res.json() as Array<{ id: string }>).map((t) => t.id), total: Number(res.headers['x-total-count']) };
    };
    expect(await list('review_source=judge')).toEqual({ ids: [a.id], total: 1 });
    expect(await list('review_source=human')).toEqual({ ids: [c.id], total: 1 });
    expect(await list('judge_status=judged')).toEqual({ ids: [a.id], total: 1 });
    expect((await list('judge_status=failed')).ids).toEqual([]);
    const bad = await f.t.call(f.key, { method: 'GET', url: '/v1/traces?review_source=robot', project });
    expect(bad.statusCode).toBe(422);
  });
});

describe('a project whose judge is off', () => {
  const f = useLoopApp('embedded', { database });

  it('leaves unreviewed traces alone, before it is switched on and after it is switched off', async () => {
    const project = 'judge-off';
    const before = uniqueTask('Before any judge');
    const b = await submit(f, run(before), project);
    await judgeProject(f, project, { enabled: true, rubric: RUBRIC });
    await judgeProject(f, project, { enabled: false });
    const after = uniqueTask('After the judge was switched off');
    const a = await submit(f, run(after), project);
    expect([b.ingestStatus, a.ingestStatus]).toEqual(['completed', 'completed']);
    for (const id of [b.id, a.id]) {
      expect(await getTrace(f, id, project)).toMatchObject({ review: null, judge: null, ingest_status: 'completed' });
    }
    expect(judgeRequestsAbout(f, before)).toHaveLength(0);
    expect(judgeRequestsAbout(f, after)).toHaveLength(0);
  });
});
