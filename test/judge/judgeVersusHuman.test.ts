import { describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { judgeVerdict } from '../support/fakeOpenAI.js';
import { createMemory, getMemory, memoriesOfTrace, uniqueTask, useLoopApp, useSharedDatabase } from '../support/learning.js';
import { judgeProject, judgeRequestsAbout, qUpdatesOfTrace, RUBRIC, submit, traceWhen } from './support.js';

const database = useSharedDatabase();
const run = (task: string) => ({ task, trajectory: [{ role: 'assistant', content: 'Done.' }] });

// One worker: a second trace waits in the queue while the first one's judge call is in flight.
// No sweeps after the first: the human review's job must be queued by the review itself (its own round).
describe('a human review that lands while the judge is at work', () => {
  const f = useLoopApp('embedded', {
    env: { Q_LEARNING_ALPHA: '0.3', REFLECT_WORKER_CONCURRENCY: '1', REFLECT_SWEEP_INTERVAL_MS: '600000' },
    database,
  });
  const project = 'judge-versus-human';

  /** A judge reply the test holds in flight until it calls the returned function. */
  function heldVerdict(verdict: 'pass' | 'fail', reason: string): () => void {
    let release!: () => void;
    f.fake.enqueueJudge({ release: new Promise<void>((resolve) => (release = resolve)), reply: judgeVerdict(verdict, reason) });
    return release;
  }

  async function humanReview(id: string, result: 'pass' | 'fail', feedback: string) {
    const res = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result, feedback_text: feedback }, project });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ review: { source: 'human', result } });
  }

  it("wins over a judge call in flight; the judge's verdict is only recorded beside it", async () => {
    await judgeProject(f, project, { enabled: true, rubric: RUBRIC });
    const m = await createMemory(f, uniqueTask('Shared lesson'), project);
    const task = uniqueTask('Contested run');
    const release = heldVerdict('fail', 'The judge says fail.');
    const { id } = await submit(f, { ...run(task), retrieved_memory_ids: [m] }, project);
    await eventually(async () => (judgeRequestsAbout(f, task).length === 1 ? true : undefined));
    await traceWhen(f, id, project, (t) => t.judge?.status === 'judging');

    await humanReview(id, 'pass', 'A person says pass.');
    release();
    const done = await traceWhen(f, id, project, (t) => t.review_status === 'reviewed' && t.judge?.status === 'judged');

    expect(done.review).toMatchObject({ source: 'human', result: 'pass', feedback_text: 'A person says pass.', alpha: 0.3, overridden_at: null });
    expect(done.judge).toMatchObject({ status: 'judged', result: 'fail', reason: 'The judge says fail.', attempts: 1 });
    // Applied once, as the human's: one memory of a passed run, one Q-update with the human's alpha.
    expect(await memoriesOfTrace(f, id)).toBe(1);
    expect((await getMemory(f, done.created_memory_id!, project)).success).toBe(true);
    const updates = await qUpdatesOfTrace(f, id);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ memory_id: m, reward: 1, alpha: 0.3, review_source: 'human' });
    expect((await getMemory(f, m, project)).q_value).toBeCloseTo(0.65, 12);
    expect(judgeRequestsAbout(f, task)).toHaveLength(1);
  });

  it('skips the judge of a trace still waiting in the queue; the human review (single or bulk) gets a job of its own', async () => {
    const busy = uniqueTask('Keeps the worker busy');
    const waiting = uniqueTask('Waits for the judge');
    const bulk = uniqueTask('Waits too, reviewed in bulk');
    const release = heldVerdict('pass', 'Fine.');
    const first = await submit(f, run(busy), project);
    await eventually(async () => (judgeRequestsAbout(f, busy).length === 1 ? true : undefined));
    const second = await submit(f, run(waiting), project);
    const third = await submit(f, run(bulk), project);
    await traceWhen(f, second.id, project, (t) => t.judge?.status === 'queued');

    await humanReview(second.id, 'fail', 'Not what was asked.');
    const bulkReview = await f.t.call(f.key, {
      method: 'POST',
      url: '/v1/traces/bulk-review',
      project,
      payload: { result: 'pass', trace_ids: [third.id] },
    });
    expect(bulkReview.statusCode, bulkReview.body).toBe(200);
    expect(bulkReview.json()).toMatchObject({ queued: 1 });
    release();
    const bulkDone = await traceWhen(f, third.id, project, (t) => t.review_status === 'reviewed');
    expect(bulkDone.judge).toMatchObject({ status: 'skipped' });
    expect(judgeRequestsAbout(f, bulk)).toHaveLength(0);
    const humans = await f.t.call(f.key, { method: 'GET', url: '/v1/traces?review_source=human', project });
    expect((humans.json() as Array<{ id: string }>).map((t) => t.id)).toEqual(expect.arrayContaining([second.id, third.id]));
    const done = await traceWhen(f, second.id, project, (t) => t.review_status === 'reviewed');
    expect(done.review).toMatchObject({ source: 'human', result: 'fail' });
    expect(done.judge).toMatchObject({ status: 'skipped', result: null, attempts: 0 });
    expect(await memoriesOfTrace(f, second.id)).toBe(1);
    expect(judgeRequestsAbout(f, waiting)).toHaveLength(0);
    // The busy trace's judge finished as usual.
    const judged = await traceWhen(f, first.id, project, (t) => t.review_status === 'reviewed');
    expect(judged.review).toMatchObject({ source: 'judge' });
  });
});

describe('a judge switched off while traces wait for it', () => {
  const f = useLoopApp('embedded', { env: { REFLECT_WORKER_CONCURRENCY: '1' }, database });
  const project = 'judge-switched-off';

  it('skips them: they stay unreviewed, no LLM call is made', async () => {
    await judgeProject(f, project, { enabled: true, rubric: RUBRIC });
    const busy = uniqueTask('Judged before the switch');
    const waiting = uniqueTask('Still waiting at the switch');
    let release!: () => void;
    f.fake.enqueueJudge({ release: new Promise<void>((resolve) => (release = resolve)), reply: judgeVerdict('pass', 'Fine.') });
    const first = await submit(f, run(busy), project);
    await eventually(async () => (judgeRequestsAbout(f, busy).length === 1 ? true : undefined));
    const second = await submit(f, run(waiting), project);
    await judgeProject(f, project, { enabled: false });
    release();

    const skipped = await traceWhen(f, second.id, project, (t) => t.judge?.status === 'skipped');
    expect(skipped).toMatchObject({ review: null, review_status: 'pending', ingest_status: 'completed' });
    expect(judgeRequestsAbout(f, waiting)).toHaveLength(0);
    // The call already made still counts.
    expect((await traceWhen(f, first.id, project, (t) => t.review_status === 'reviewed')).review).toMatchObject({ source: 'judge' });
  });
});
