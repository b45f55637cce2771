import { describe, expect, it } from 'vitest';
import {
  createMemory,
  createTrace,
  getMemory,
  uniqueTask,
  useLoopApp,
  useSharedDatabase,
  waitForTrace,
  type LoopFixture,
} from '../support/learning.js';
import { transports } from '../support/redis.js';

/** Exact to 1e-9, as the brief of the learning loop asks. */
function expectQ(actual: unknown, expected: number): void {
  expect(typeof actual).toBe('number');
  expect(Math.abs((actual as number) - expected)).toBeLessThan(1e-9);
}

async function qOf(f: LoopFixture, id: string, project?: string): Promise<number> {
  return (await getMemory(f, id, project)).q_value as number;
}

async function review(f: LoopFixture, id: string, body: Record<string, unknown>) {
  const res = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function historyOf(f: LoopFixture, memoryId: string) {
  const { rows } = await f.t.app.database.pool.query(
    'select trace_id, q_before, q_after, reward, alpha from q_value_updates where memory_id = $1 order by created_at, id',
    [memoryId],
  );
  return rows as Array<{ trace_id: string; q_before: number; q_after: number; reward: number; alpha: number }>;
}

const database = useSharedDatabase();

// Q_LEARNING_ALPHA is set to 0.1 so that the server default cannot be mistaken for the spec's 0.3.
describe.each(transports())('Q-value updates through the API ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, { env: { Q_LEARNING_ALPHA: '0.1' }, database });

  it('applies q ← q + α(r − q) for an inline review and then a deferred one', async () => {
    const m = await createMemory(f, uniqueTask('Memory M'));
    expectQ(await qOf(f, m), 0.5);

    const t1 = await createTrace(f, {
      task: uniqueTask('T1'),
      trajectory: [{ role: 'assistant', content: 'wrong' }],
      retrieved_memory_ids: [m],
      review_result: 'fail',
      alpha: 0.5,
    });
    const done1 = await waitForTrace(f, t1);
    expect(done1.ingest_status).toBe('completed');
    expectQ(await qOf(f, m), 0.25);
    // The trace's own new memory starts at 0.5 and is not touched by its own review.
    expectQ(await qOf(f, done1.created_memory_id!), 0.5);

    const t2 = await createTrace(f, { task: uniqueTask('T2'), trajectory: [{ role: 'assistant', content: 'right' }], retrieved_memory_ids: [m] });
    expectQ(await qOf(f, m), 0.25);
    await review(f, t2, { result: 'pass', alpha: 0.3 });
    await waitForTrace(f, t2);
    expectQ(await qOf(f, m), 0.475);

    const history = await historyOf(f, m);
    expect(history.map((h) => h.trace_id)).toEqual([t1, t2]);
    expect(history[0]).toMatchObject({ reward: 0, alpha: 0.5 });
    expectQ(history[0]!.q_before, 0.5);
    expectQ(history[0]!.q_after, 0.25);
    expect(history[1]).toMatchObject({ reward: 1, alpha: 0.3 });
    expectQ(history[1]!.q_before, 0.25);
    expectQ(history[1]!.q_after, 0.475);
  });

  it.each([
    // [case, trace alpha, inline review?, review alpha, expected alpha]
    ['the review’s alpha wins over the trace’s', 0.9, false, 0.2, 0.2],
    ['the trace’s alpha when the review has none', 0.4, false, undefined, 0.4],
    ['Q_LEARNING_ALPHA when neither has one', undefined, false, undefined, 0.1],
    ['an inline review uses the trace’s alpha', 0.6, true, undefined, 0.6],
    ['an inline review without alpha uses Q_LEARNING_ALPHA', undefined, true, undefined, 0.1],
  ] as const)('alpha fallback: %s', async (_case, traceAlpha, inline, reviewAlpha, expected) => {
    const m = await createMemory(f, uniqueTask('Alpha memory'));
    const id = await createTrace(f, {
      task: uniqueTask('Alpha trace'),
      trajectory: [{ role: 'assistant', content: 'x' }],
      retrieved_memory_ids: [m],
      ...(traceAlpha !== undefined ? { alpha: traceAlpha } : {}),
      ...(inline ? { review_result: 'pass' } : {}),
    });
    if (!inline) {
      const queued = await review(f, id, { result: 'pass', ...(reviewAlpha !== undefined ? { alpha: reviewAlpha } : {}) });
      expect(queued.review.alpha).toBe(expected);
    }
    const trace = await waitForTrace(f, id);
    expect(trace.review?.alpha).toBe(expected);
    expectQ(await qOf(f, m), 0.5 + expected * (1 - 0.5));
  });

  it('updates every retrieved memory of the project and nothing of another project', async () => {
    const mine = [await createMemory(f, uniqueTask('Mine A')), await createMemory(f, uniqueTask('Mine B'))];
    const foreign = await createMemory(f, uniqueTask('Foreign'), 'other-project');
    const otherUserKey = await f.t.masterKey('user-2', 'default');
    const otherUserMemory = await f.t.call(otherUserKey, {
      method: 'POST',
      url: '/v1/memories',
      payload: { task: uniqueTask('Other user'), reflection: 'theirs' },
    });
    expect(otherUserMemory.statusCode).toBe(201);
    const theirs = otherUserMemory.json().id as string;
    const unknown = '00000000-0000-4000-8000-000000000000';

    const id = await createTrace(f, {
      task: uniqueTask('Mixed ids'),
      trajectory: [{ role: 'assistant', content: 'x' }],
      retrieved_memory_ids: [mine[0], foreign, theirs, unknown, mine[1], mine[0]],
      review_result: 'fail',
      alpha: 0.2,
    });
    const trace = await waitForTrace(f, id);
    expect(trace.ingest_status).toBe('completed');
    for (const m of mine) expectQ(await qOf(f, m), 0.4);
    expectQ(await qOf(f, foreign, 'other-project'), 0.5);
    const theirsNow = await f.t.call(otherUserKey, { method: 'GET', url: `/v1/memories/${theirs}` });
    expectQ(theirsNow.json().q_value, 0.5);

    const { rows } = await f.t.app.database.pool.query('select memory_id from q_value_updates where trace_id = $1', [id]);
    expect(rows.map((r) => r.memory_id as string).sort()).toEqual([...mine].sort());
  });
});
