import { describe, expect, it } from 'vitest';
import { getTrace, uniqueTask, useLoopApp, useSharedDatabase, type LoopFixture } from '../support/learning.js';
import { transports } from '../support/redis.js';
import { judgeProject, judgeRequestsAbout, RUBRIC, submit, traceWhen } from './support.js';

const database = useSharedDatabase();
// The fake judge fails a run whose task says "fail" and passes the others.
const run = (task: string, extra: Record<string, unknown> = {}) => ({
  task,
  trajectory: [{ role: 'assistant', content: 'Done.' }],
  final_response: 'Done.',
  ...extra,
});

const backlog = (f: LoopFixture, project: string, payload?: unknown) =>
  f.t.call(f.key, { method: 'POST', url: `/v1/projects/${project}/judge/backlog`, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

async function queue(f: LoopFixture, project: string, payload?: unknown): Promise<{ queued: number; trace_ids: string[] }> {
  const res = await backlog(f, project, payload);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { queued: number; trace_ids: string[] };
}

async function backlogCount(f: LoopFixture, project: string): Promise<number> {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/projects/${project}/judge` });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { backlog: number }).backlog;
}

/** What the backlog call may change on a trace. */
async function judgeState(f: LoopFixture, ids: string[]) {
  const { rows } = await f.t.app.database.pool.query(
    'select id, judge_status, ingest_status, ingest_round, ingest_attempts, review_result, lease_expires_at from traces where id = any($1) order by id',
    [ids],
  );
  return rows;
}

describe.each(transports())('judging the traces that were waiting ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, { database });

  it('queues the newest waiting traces the filter matches, judges them, and leaves reviewed, leased and judged traces alone', async () => {
    const project = `judge-backlog-${transport}`;
    await judgeProject(f, project, { rubric: RUBRIC, metadata_filter: { env: 'prod' } });
    const prod = { metadata: { env: 'prod' } };

    // Open in someone's review queue.
    const leased = await submit(f, run(uniqueTask('Leased run'), prod), project);
    const claimed = await f.t.call(f.key, { method: 'POST', url: '/v1/review-queue/claim', payload: {}, project });
    expect(claimed.statusCode, claimed.body).toBe(200);
    expect((claimed.json() as { trace: { id: string } }).trace.id).toBe(leased.id);

    // Looked at by the judge already: one it failed to judge (failed ones have /retry), one it judged.
    await judgeProject(f, project, { enabled: true });
    f.fake.enqueueJudge({ status: 400 });
    const failedTask = uniqueTask('Judge gave up');
    const failed = await submit(f, run(failedTask, prod), project);
    await traceWhen(f, failed.id, project, (t) => t.judge?.status === 'failed');
    const judgedTask = uniqueTask('Judged on arrival');
    const judged = await submit(f, run(judgedTask, prod), project);
    await traceWhen(f, judged.id, project, (t) => t.review_status === 'reviewed');
    await judgeProject(f, project, { enabled: false });

    // Waiting while the judge was off: three match the filter, one does not, one came with a review.
    const oldestTask = uniqueTask('Oldest waiting run');
    const oldest = await submit(f, run(oldestTask, prod), project);
    const devTask = uniqueTask('Dev run');
    const dev = await submit(f, run(devTask, { metadata: { env: 'dev' } }), project);
    const humanTask = uniqueTask('Reviewed run');
    const human = await submit(f, run(humanTask, { ...prod, review_result: 'pass' }), project);
    await traceWhen(f, human.id, project, (t) => t.review_status === 'reviewed');
    const failsTask = uniqueTask('Run that should fail');
    const fails = await submit(f, run(failsTask, { metadata: { env: 'prod', team: 'billing' } }), project);
    const passesTask = uniqueTask('Newest run');
    const passes = await submit(f, run(passesTask, prod), project);
    expect([oldest, dev, fails, passes].map((s) => s.ingestStatus)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const untouched = [leased.id, failed.id, judged.id, dev.id, human.id];
    const untouchedBefore = await judgeState(f, untouched);

    await judgeProject(f, project, { enabled: true });
    expect(await backlogCount(f, project)).toBe(3);

    // The newest two first.
    expect(await queue(f, project, { limit: 2 })).toEqual({ queued: 2, trace_ids: [passes.id, fails.id] });
    for (const [id, result] of [
      [passes.id, 'pass'],
      [fails.id, 'fail'],
    ] as const) {
      const trace = await traceWhen(f, id, project, (t) => t.review_status === 'reviewed');
      expect(trace.review).toMatchObject({ source: 'judge', result, alpha: 0.1 });
      expect(trace.judge).toMatchObject({ status: 'judged', result, attempts: 1 });
      expect(trace.created_memory_id).not.toBeNull();
    }
    expect(await backlogCount(f, project)).toBe(1);

    // The default limit takes the rest; then nothing is left.
    expect(await queue(f, project)).toEqual({ queued: 1, trace_ids: [oldest.id] });
    const last = await traceWhen(f, oldest.id, project, (t) => t.review_status === 'reviewed');
    expect(last.review).toMatchObject({ source: 'judge', result: 'pass' });
    expect(await queue(f, project, {})).toEqual({ queued: 0, trace_ids: [] });
    expect(await backlogCount(f, project)).toBe(0);

    for (const task of [oldestTask, failsTask, passesTask, judgedTask]) expect(judgeRequestsAbout(f, task), task).toHaveLength(1);
    for (const task of [devTask, humanTask]) expect(judgeRequestsAbout(f, task), task).toHaveLength(0);
    expect(judgeRequestsAbout(f, failedTask)).toHaveLength(1);
    expect(await judgeState(f, untouched)).toEqual(untouchedBefore);
    expect(await getTrace(f, leased.id, project)).toMatchObject({ review: null, judge: null });
    expect(untouchedBefore.find((r: { id: string }) => r.id === leased.id)!.lease_expires_at).not.toBeNull();
  });
});

describe('the judge backlog, refused and raced', () => {
  const f = useLoopApp('embedded', { database });

  it('is 409 judge_off while the judge is off, and 422 for a bad limit; neither writes anything', async () => {
    const project = 'judge-backlog-off';
    await judgeProject(f, project, { rubric: RUBRIC });
    const waiting = [await submit(f, run(uniqueTask('Waiting A')), project), await submit(f, run(uniqueTask('Waiting B')), project)].map((s) => s.id);
    const before = await judgeState(f, waiting);
    expect(await backlogCount(f, project)).toBe(2);

    const off = await backlog(f, project, { limit: 10 });
    expect(off.statusCode, off.body).toBe(409);
    expect(off.json()).toMatchObject({ code: 'judge_off' });

    await judgeProject(f, project, { enabled: true });
    for (const limit of [0, -1, 1001, 2.5, '10', null]) {
      const res = await backlog(f, project, { limit });
      expect(res.statusCode, JSON.stringify(limit)).toBe(422);
      expect((res.json() as { detail: Array<{ loc: string[] }> }).detail.map((d) => d.loc.join('.'))).toContain('body.limit');
    }
    expect((await backlog(f, 'no-such-project', {})).statusCode).toBe(404);
    expect(await judgeState(f, waiting)).toEqual(before);
    await judgeProject(f, project, { enabled: false });
  });

  it('two calls at once queue each waiting trace once', async () => {
    const project = 'judge-backlog-race';
    await judgeProject(f, project, { rubric: RUBRIC });
    const tasks = Array.from({ length: 6 }, (_, i) => uniqueTask(`Raced run ${i}`));
    const ids: string[] = [];
    for (const task of tasks) ids.push((await submit(f, run(task), project)).id);
    await judgeProject(f, project, { enabled: true });

    const [a, b] = await Promise.all([queue(f, project, { limit: 1000 }), queue(f, project, { limit: 1000 })]);
    expect(a.queued + b.queued).toBe(6);
    expect([...a.trace_ids, ...b.trace_ids].sort()).toEqual([...ids].sort());

    for (const id of ids) await traceWhen(f, id, project, (t) => t.review_status === 'reviewed');
    for (const task of tasks) expect(judgeRequestsAbout(f, task), task).toHaveLength(1);
    const rounds = await judgeState(f, ids);
    // One round to judge, one to apply the verdict.
    expect(rounds.map((r: { ingest_round: number }) => r.ingest_round)).toEqual(ids.map(() => 2));
  });
});

describe('the judge backlog without an LLM key', () => {
  const f = useLoopApp('embedded', { llm: false, database });

  it('is a 400 llm_not_configured', async () => {
    const project = 'judge-backlog-nollm';
    await judgeProject(f, project, { rubric: RUBRIC });
    const res = await backlog(f, project, {});
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'llm_not_configured' });
  });
});
