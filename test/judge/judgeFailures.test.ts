import { describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { judgeVerdict } from '../support/fakeOpenAI.js';
import { getTrace, memoriesOfTrace, uniqueTask, useLoopApp, useSharedDatabase } from '../support/learning.js';
import { judgeProject, judgeRequestsAbout, llmCallsOf, RUBRIC, submit, traceWhen } from './support.js';

const database = useSharedDatabase();
const run = (task: string) => ({ task, trajectory: [{ role: 'assistant', content: 'Done.' }] });

describe('judge failures', () => {
  const f = useLoopApp('embedded', { env: { REFLECT_INGEST_ATTEMPTS: '3' }, database });
  const project = 'judge-failures';

  it('retries LLM errors like reflections and logs every attempt as a judge call', async () => {
    await judgeProject(f, project, { enabled: true, rubric: RUBRIC });
    const task = uniqueTask('Flaky provider');
    f.fake.enqueueJudge({ status: 500 }, { status: 503 }, judgeVerdict('pass', 'Correct.'));
    const { id } = await submit(f, run(task), project);
    const trace = await traceWhen(f, id, project, (t) => t.review_status === 'reviewed');
    expect(trace.judge).toMatchObject({ status: 'judged', result: 'pass', attempts: 3, error: null });
    expect(trace.review).toMatchObject({ source: 'judge', result: 'pass', feedback_text: 'Correct.' });
    expect(judgeRequestsAbout(f, task)).toHaveLength(3);
    const calls = await eventually(async () => {
      const rows = (await llmCallsOf(f, project, 'judge')).filter((c) => c.trace_id === id);
      return rows.length === 3 ? rows : undefined;
    });
    expect(calls.map((c) => c.outcome).sort()).toEqual(['error', 'error', 'ok']);
  });

  it('takes a verdict in a code fence', async () => {
    const task = uniqueTask('Fenced verdict');
    f.fake.enqueueJudge({ content: 'Here it is:\n```json\n{"verdict": "FAIL", "reason": "No answer given."}\n```' });
    const { id } = await submit(f, run(task), project);
    const trace = await traceWhen(f, id, project, (t) => t.review_status === 'reviewed');
    expect(trace.review).toMatchObject({ source: 'judge', result: 'fail', feedback_text: 'No answer given.' });
  });

  it('never makes a verdict up: unparseable answers until the attempts run out leave the trace unreviewed, and retry judges it again', async () => {
    const task = uniqueTask('Rambling judge');
    f.fake.enqueueJudge({ content: 'I think it is fine' }, { content: '{"verdict": "maybe", "reason": "?"}' }, { content: '{"reason": "no verdict"}' });
    const { id } = await submit(f, run(task), project);
    const failed = await traceWhen(f, id, project, (t) => t.judge?.status === 'failed');
    expect(failed).toMatchObject({ review: null, review_status: 'pending', ingest_status: 'completed', created_memory_id: null });
    expect(failed.judge).toMatchObject({ status: 'failed', result: null, attempts: 3 });
    expect(failed.judge!.error).toContain('verdict');
    expect(await memoriesOfTrace(f, id)).toBe(0);
    expect(judgeRequestsAbout(f, task)).toHaveLength(3);

    // The list finds it; retry starts a new round of the judge.
    const listed = await f.t.call(f.key, { method: 'GET', url: '/v1/traces?judge_status=failed', project });
    expect((listed.json() as Array<{ id: string }>).map((t) => t.id)).toContain(id);
    f.fake.enqueueJudge(judgeVerdict('fail', 'Wrong.'));
    const retried = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/retry`, project });
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ ingest_status: 'queued', judge: { status: 'queued', attempts: 0 } });
    const judged = await traceWhen(f, id, project, (t) => t.review_status === 'reviewed');
    expect(judged.review).toMatchObject({ source: 'judge', result: 'fail' });
    expect(judged.judge).toMatchObject({ status: 'judged', attempts: 1, error: null });
    expect(await memoriesOfTrace(f, id)).toBe(1);
    // Nothing left to retry.
    expect((await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/retry`, project })).statusCode).toBe(409);
  });

  it('gives up at once on an error a retry cannot fix (HTTP 400), and retry is refused once the judge is off', async () => {
    const task = uniqueTask('Bad request');
    f.fake.enqueueJudge({ status: 400 });
    const { id } = await submit(f, run(task), project);
    const failed = await traceWhen(f, id, project, (t) => t.judge?.status === 'failed');
    expect(failed.judge).toMatchObject({ attempts: 1 });
    expect(failed.judge!.error).toContain('HTTP 400');
    expect(failed.review).toBeNull();

    await judgeProject(f, project, { enabled: false });
    const refused = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/retry`, project });
    expect(refused.statusCode).toBe(409);
    expect((await getTrace(f, id, project)).judge).toMatchObject({ status: 'failed' });
    await judgeProject(f, project, { enabled: true });
  });
});
