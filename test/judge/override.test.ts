import { describe, expect, it } from 'vitest';
import { rewriteLessonOfTrace } from '../../src/db/lessonRewrite.js';
import { eventually } from '../support/app.js';
import { chatRequestsAbout, createMemory, getMemory, memoriesOfTrace, uniqueTask, useLoopApp, useSharedDatabase, type LoopFixture } from '../support/learning.js';
import { transports } from '../support/redis.js';
import { chainOf, expectConsistentChain, expectQ, historyOf, judgedTask, judgedTrace, postReview, qOf, settled, traceNow } from './overrideSupport.js';
import { judgeProject, RUBRIC, submit, traceWhen } from './support.js';

const database = useSharedDatabase();

async function eventsOf(f: LoopFixture, memoryId: string) {
  const { rows } = await f.t.app.database.pool.query('select kind, trace_id, actor_label, q_value, detail from memory_events where memory_id = $1 order by created_at, id', [
    memoryId,
  ]);
  return rows as Array<{ kind: string; trace_id: string | null; actor_label: string | null; q_value: number; detail: Record<string, any> }>;
}

/** Reflection requests (not the judge's) the fake received for a task. */
const reflectionsOf = (f: LoopFixture, task: string) =>
  chatRequestsAbout(f.fake, task).filter((r) => !JSON.stringify(r.body).includes('You judge'));

describe.each(transports())('human override of the judge ($transport)', ({ transport }) => {
  // Q_LEARNING_ALPHA 0.2: an override without alpha (and a trace without one) uses it.
  const f = useLoopApp(transport, { env: { Q_LEARNING_ALPHA: '0.2', REFLECT_WORKER_CONCURRENCY: '4' }, database });
  let n = 0;
  async function project(alpha = 0.1): Promise<string> {
    const slug = `override-${transport}-${++n}`;
    await judgeProject(f, slug, { enabled: true, rubric: RUBRIC, alpha });
    return slug;
  }

  it('verdict unchanged: Q corrected for the human alpha across later reviews, the memory kept, nothing queued', async () => {
    const p = await project(0.1);
    const m = await createMemory(f, uniqueTask('Shared lesson'), p);
    const judged = await judgedTrace(f, p, { task: judgedTask('Unchanged', 'pass'), retrieved_memory_ids: [m] });
    // A later human review of another run moves the same memory.
    const later = await submit(f, { task: uniqueTask('Later run'), trajectory: [{ role: 'assistant', content: 'x' }], retrieved_memory_ids: [m], review_result: 'fail', alpha: 0.3 }, p);
    await traceWhen(f, later.id, p, (t) => t.review_status === 'reviewed');
    const memoryBefore = await getMemory(f, judged.created_memory_id!, p);
    expect((await historyOf(f, m, p)).map((h) => h.detail)).toEqual([{ review_source: 'judge' }, {}]);
    const reflections = reflectionsOf(f, judged.task).length;

    const res = await postReview(f, judged.id, p, { result: 'pass', alpha: 0.5, feedback_text: 'Right answer.' });
    expect(res.statusCode, res.body).toBe(200);
    const trace = res.json();
    expect(trace.review).toMatchObject({ result: 'pass', alpha: 0.5, source: 'human', feedback_text: 'Right answer.', reviewer: { label: 'test' } });
    expect(trace.review.overridden_at).not.toBeNull();
    expect(trace.ingest_status).toBe('completed');
    // The judge's own verdict stays (agreement statistics).
    expect(trace.judge).toMatchObject({ status: 'judged', result: 'pass' });

    expectQ(await qOf(f, m), replayOf([{ reward: 1, alpha: 0.5 }, { reward: 0, alpha: 0.3 }]));
    const chain = await expectConsistentChain(f, m);
    expect(chain[0]).toMatchObject({ trace_id: judged.id, reward: 1, alpha: 0.5, review_source: 'human', overridden: { reward: 1, alpha: 0.1, q_before: 0.5, q_after: 0.55 } });
    expect(chain[1]).toMatchObject({ trace_id: later.id, reward: 0, alpha: 0.3, review_source: 'human', overridden: null });

    await settled(f);
    expect(await getMemory(f, judged.created_memory_id!, p)).toEqual(memoryBefore);
    expect(reflectionsOf(f, judged.task)).toHaveLength(reflections);
    expect((await eventsOf(f, judged.created_memory_id!)).map((e) => e.kind)).toEqual([]);

    const events = await eventsOf(f, m);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'review_override', trace_id: judged.id, actor_label: 'test' });
    expect(events[0]!.detail).toMatchObject({
      trace_id: judged.id,
      judge: { result: 'pass', reward: 1, alpha: 0.1 },
      human: { result: 'pass', reward: 1, alpha: 0.5 },
      later_updates: 1,
    });
    expectQ(events[0]!.detail.q_before, replayOf([{ reward: 1, alpha: 0.1 }, { reward: 0, alpha: 0.3 }]));
    expectQ(events[0]!.detail.q_after, await qOf(f, m));

    // The history shows the corrected update (with the judge's figures) and the correction.
    const history = await historyOf(f, m, p);
    expect(history.map((h) => h.kind)).toEqual(['q_update', 'q_update', 'review_override']);
    expect(history[0]).toMatchObject({ trace_id: judged.id, reward: 1, alpha: 0.5, detail: { review_source: 'human', overridden: { reward: 1, alpha: 0.1 } } });
    expect(history[1]!.detail).toEqual({});
    expect(history[2]).toMatchObject({ trace_id: judged.id, reward: 1, alpha: 0.5, actor: { type: 'api_key', label: 'test' } });
    expectQ(history[2]!.q_after, await qOf(f, m));
  });

  it('verdict changed, the memory its only source: rewritten in place from the human verdict (same id, Q kept), history shows who', async () => {
    const p = await project(0.1);
    const m = await createMemory(f, uniqueTask('Used lesson'), p);
    const judged = await judgedTrace(f, p, { task: judgedTask('Changed', 'pass'), retrieved_memory_ids: [m], alpha: 0.4 });
    const own = judged.created_memory_id!;
    await f.t.app.database.pool.query('update memories set q_value = 0.61 where id = $1', [own]); // a Q of its own, to see it kept
    const before = await getMemory(f, own, p);
    expect(before.success).toBe(true);

    // No alpha: the trace's (0.4) applies.
    const res = await postReview(f, judged.id, p, { result: 'fail', feedback_text: 'The total is wrong.' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ingest_status: 'queued', review: { result: 'fail', alpha: 0.4, source: 'human' } });
    expectQ(await qOf(f, m), 0.5 + 0.4 * (0 - 0.5));

    const done = await traceWhen(f, judged.id, p, (t) => t.ingest_status === 'completed');
    expect(done.created_memory_id).toBe(own);
    const after = await getMemory(f, own, p);
    expect(after).toMatchObject({ id: own, success: false, q_value: 0.61, evidence_count: 1, source_trace_ids: [judged.id] });
    expect(after.reflection).not.toEqual(before.reflection);
    expect(after.reflection).toMatch(/failed/);
    expect(await memoriesOfTrace(f, judged.id)).toBe(1);
    // The new reflection saw the human's verdict and feedback.
    const prompts = reflectionsOf(f, judged.task).map((r) => JSON.stringify(r.body));
    expect(prompts.at(-1)).toContain('The total is wrong.');

    const history = await historyOf(f, own, p);
    expect(history.map((h) => h.kind)).toEqual(['rewrite']);
    expect(history[0]).toMatchObject({ trace_id: judged.id, q_before: 0.61, q_after: 0.61, actor: { type: 'api_key', label: 'test' } });
    expect(history[0]!.detail).toMatchObject({ reflection_before: before.reflection, success_before: true, success: false });

    // A duplicate of the step (a retried or second job) finds the round done and writes nothing.
    const { rows } = await f.t.app.database.pool.query('select ingest_round from traces where id = $1', [judged.id]);
    const again = await rewriteLessonOfTrace(f.t.app.database.db, { traceId: judged.id, round: rows[0].ingest_round, memory: lessonStub(judged.task) });
    expect(again).toEqual({ done: false });
    expect((await historyOf(f, own, p)).map((h) => h.kind)).toEqual(['rewrite']);
  });

  it('verdict changed, the lesson merged with another run’s: detached from it and stored as the trace’s own memory', async () => {
    const p = await project(0.1);
    const task = judgedTask('Merged', 'pass');
    const first = await judgedTrace(f, p, { task });
    const second = await judgedTrace(f, p, { task });
    const merged = first.created_memory_id!;
    expect(second.created_memory_id).toBe(merged);
    expect(await getMemory(f, merged, p)).toMatchObject({ evidence_count: 2, source_trace_ids: [first.id, second.id], source_trace_id: first.id });

    const res = await postReview(f, first.id, p, { result: 'fail', feedback_text: 'It did not work.' });
    expect(res.statusCode, res.body).toBe(200);
    const done = await traceWhen(f, first.id, p, (t) => t.ingest_status === 'completed');

    expect(done.created_memory_id).not.toBe(merged);
    expect(await getMemory(f, merged, p)).toMatchObject({ evidence_count: 1, source_trace_ids: [second.id], source_trace_id: second.id, success: true, q_value: 0.5 });
    const own = await getMemory(f, done.created_memory_id!, p);
    expect(own).toMatchObject({ success: false, q_value: 0.5, evidence_count: 1, source_trace_ids: [first.id], source_trace_id: first.id, task });
    expect(await chainOf(f, done.created_memory_id!)).toEqual([]);
    const history = await historyOf(f, merged, p);
    expect(history.map((h) => h.kind)).toEqual(['merge', 'detach']);
    expect(history[1]).toMatchObject({ trace_id: first.id, actor: { type: 'api_key', label: 'test' }, detail: { evidence_count: 1, source_trace_ids: [second.id] } });
  });

  it('the REWRITE step runs once under duplicate jobs: one detach, one memory of the trace, evidence counted down once', async () => {
    const p = await project(0.1);
    const task = judgedTask('Duplicated', 'pass');
    const first = await judgedTrace(f, p, { task });
    await judgedTrace(f, p, { task });
    const merged = first.created_memory_id!;
    f.fake.latencyMs = 300;
    try {
      const res = await postReview(f, first.id, p, { result: 'fail' });
      expect(res.statusCode, res.body).toBe(200);
      const { rows } = await f.t.app.database.pool.query('select ingest_round from traces where id = $1', [first.id]);
      // Two more writers of the same round while the worker's own step is reflecting.
      const direct = await Promise.all(
        [0, 1].map(() => rewriteLessonOfTrace(f.t.app.database.db, { traceId: first.id, round: rows[0].ingest_round, memory: lessonStub(task) })),
      );
      expect(direct.filter((d) => d.done)).toHaveLength(1);
      await settled(f);
    } finally {
      f.fake.latencyMs = 0;
    }
    expect(await getMemory(f, merged, p)).toMatchObject({ evidence_count: 1 });
    expect((await eventsOf(f, merged)).filter((e) => e.kind === 'detach')).toHaveLength(1);
    expect(await memoriesOfTrace(f, first.id)).toBe(1);
    expect(await traceNow(f, first.id, p)).toMatchObject({ ingest_status: 'completed' });
  });

  it('two concurrent overrides: one is applied (200), the other refused (409); the Q is corrected once', async () => {
    const p = await project(0.1);
    const m1 = await createMemory(f, uniqueTask('Concurrent A'), p);
    const m2 = await createMemory(f, uniqueTask('Concurrent B'), p);
    const judged = await judgedTrace(f, p, { task: judgedTask('Twice', 'fail'), retrieved_memory_ids: [m2, m1] });
    const bodies = [
      { result: 'pass', alpha: 0.3 },
      { result: 'fail', alpha: 0.6 },
    ];
    const responses = await Promise.all(bodies.map((b) => postReview(f, judged.id, p, b)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const winner = bodies[responses.findIndex((r) => r.statusCode === 200)]!;
    expect(responses.find((r) => r.statusCode === 409)!.json()).toMatchObject({ code: expect.any(String) });
    await settled(f);
    for (const m of [m1, m2]) {
      expectQ(await qOf(f, m), replayOf([{ reward: winner.result === 'pass' ? 1 : 0, alpha: winner.alpha }]));
      await expectConsistentChain(f, m);
      expect((await eventsOf(f, m)).filter((e) => e.kind === 'review_override')).toHaveLength(1);
    }
    expect((await traceNow(f, judged.id, p)).review).toMatchObject({ source: 'human', result: winner.result, alpha: winner.alpha });
  });

  it('an override racing the job that applies the judge’s review: the human verdict is applied once, the judge’s never stays', async () => {
    const p = await project(0.1);
    const m = await createMemory(f, uniqueTask('Raced lesson'), p);
    const task = judgedTask('Raced', 'pass');
    f.fake.latencyMs = 600;
    try {
      const sent = await submit(f, { task, trajectory: [{ role: 'assistant', content: 'x' }], retrieved_memory_ids: [m] }, p);
      // The judge's verdict is attached and the reflection applying it is in flight.
      await traceWhen(f, sent.id, p, (t) => t.review?.source === 'judge');
      await eventually(async () => (reflectionsOf(f, task).length > 0 ? true : undefined));
      const res = await postReview(f, sent.id, p, { result: 'fail', alpha: 0.5 });
      expect(res.statusCode, res.body).toBe(200);
      await settled(f);

      const trace = await traceNow(f, sent.id, p);
      expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', review: { source: 'human', result: 'fail', alpha: 0.5 } });
      expect(await memoriesOfTrace(f, sent.id)).toBe(1);
      expect(await getMemory(f, trace.created_memory_id!, p)).toMatchObject({ success: false });
      const chain = await expectConsistentChain(f, m);
      expect(chain.map((r) => [r.trace_id, r.reward, r.alpha, r.review_source])).toEqual([[sent.id, 0, 0.5, 'human']]);
      expectQ(await qOf(f, m), 0.25);
    } finally {
      f.fake.latencyMs = 0;
    }
  });

  it('an override racing later reviews of the same memories: each chain, in the order the database applied it, replays to the memory’s Q', async () => {
    const p = await project(0.1);
    const m1 = await createMemory(f, uniqueTask('Busy A'), p);
    const m2 = await createMemory(f, uniqueTask('Busy B'), p);
    const judged = await judgedTrace(f, p, { task: judgedTask('Busy', 'fail'), retrieved_memory_ids: [m1, m2] });
    const reviews = [
      { result: 'pass', alpha: 0.15 },
      { result: 'fail', alpha: 0.45 },
      { result: 'pass', alpha: 0.25 },
      { result: 'pass', alpha: 0.35 },
      { result: 'fail', alpha: 0.05 },
      { result: 'pass', alpha: 0.55 },
    ];
    const pending: string[] = [];
    for (let i = 0; i < reviews.length; i++) {
      const retrieved = i % 2 === 0 ? [m1, m2] : [m2, m1];
      pending.push((await submit(f, { task: uniqueTask(`Busy later ${i}`), trajectory: [{ role: 'assistant', content: `${i}` }], retrieved_memory_ids: retrieved }, p)).id);
    }
    f.fake.latencyMs = 20;
    try {
      const half = reviews.length / 2;
      // Half the reviews are applied before the override can be, half race it.
      const early = await Promise.all(pending.slice(0, half).map((id, i) => postReview(f, id, p, reviews[i]!)));
      const [override, ...late] = await Promise.all([
        postReview(f, judged.id, p, { result: 'pass', alpha: 0.7 }),
        ...pending.slice(half).map((id, i) => postReview(f, id, p, reviews[half + i]!)),
      ]);
      expect([...early, override!, ...late].map((r) => r.statusCode)).toEqual(Array(reviews.length + 1).fill(200));
      await settled(f);
    } finally {
      f.fake.latencyMs = 0;
    }
    const expected = new Map<string, { reward: number; alpha: number }>([
      [judged.id, { reward: 1, alpha: 0.7 }],
      ...pending.map((id, i) => [id, { reward: reviews[i]!.result === 'pass' ? 1 : 0, alpha: reviews[i]!.alpha }] as const),
    ]);
    for (const m of [m1, m2]) {
      const chain = await expectConsistentChain(f, m);
      expect(chain).toHaveLength(reviews.length + 1);
      expect(chain[0]!.trace_id).toBe(judged.id);
      for (const row of chain) expect({ reward: row.reward, alpha: row.alpha }).toEqual(expected.get(row.trace_id));
      expectQ(await qOf(f, m), replayOf(chain.map((row) => expected.get(row.trace_id)!)));
    }
  });

  it('the judge’s review failed to apply (ingest failed): the override replaces it and the human review is applied instead', async () => {
    const p = await project(0.1);
    const m = await createMemory(f, uniqueTask('Unapplied lesson'), p);
    await settled(f);
    f.fake.enqueue({ status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error' } } });
    const sent = await submit(f, { task: judgedTask('Unapplied', 'pass'), trajectory: [{ role: 'assistant', content: 'x' }], retrieved_memory_ids: [m] }, p);
    const failed = await traceWhen(f, sent.id, p, (t) => t.ingest_status === 'failed');
    expect(failed).toMatchObject({ review_status: 'pending', review: { source: 'judge', result: 'pass' } });
    expectQ(await qOf(f, m), 0.5);

    const res = await postReview(f, sent.id, p, { result: 'fail', alpha: 0.5 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ingest_status: 'queued', review: { source: 'human', result: 'fail' } });
    const done = await traceWhen(f, sent.id, p, (t) => t.review_status === 'reviewed');
    expect(done).toMatchObject({ ingest_status: 'completed', last_ingest_error: null });
    expect(await getMemory(f, done.created_memory_id!, p)).toMatchObject({ success: false });
    const chain = await expectConsistentChain(f, m);
    expect(chain.map((r) => [r.trace_id, r.reward, r.alpha, r.review_source, r.overridden])).toEqual([[sent.id, 0, 0.5, 'human', null]]);
    expect(await eventsOf(f, m)).toEqual([]);
  });

  it('a human review of a human-reviewed trace stays 409, and so does a third review after an override', async () => {
    const p = await project(0.1);
    const { id } = await submit(f, { task: uniqueTask('Human first'), trajectory: [{ role: 'assistant', content: 'x' }], review_result: 'pass' }, p);
    await traceWhen(f, id, p, (t) => t.review_status === 'reviewed');
    expect((await postReview(f, id, p, { result: 'fail' })).statusCode).toBe(409);
    const judged = await judgedTrace(f, p, { task: judgedTask('Thrice', 'pass') });
    expect((await postReview(f, judged.id, p, { result: 'pass' })).statusCode).toBe(200);
    expect((await postReview(f, judged.id, p, { result: 'fail' })).statusCode).toBe(409);
    await settled(f);
  });

  it('a bulk review overrides judge-reviewed traces as a single review would (Q corrected), leaves human-reviewed ones 409', async () => {
    const p = await project(0.1);
    const m = await createMemory(f, uniqueTask('Bulk shared lesson'), p);
    const judged = await judgedTrace(f, p, { task: judgedTask('Bulk judged', 'pass'), retrieved_memory_ids: [m] });
    const human = await submit(f, { task: uniqueTask('Bulk human'), trajectory: [{ role: 'assistant', content: 'x' }], review_result: 'pass' }, p);
    await traceWhen(f, human.id, p, (t) => t.review_status === 'reviewed');

    const res = await f.t.call(f.key, {
      method: 'POST',
      url: '/v1/traces/bulk-review',
      project: p,
      payload: { result: 'fail', alpha: 0.4, feedback_text: 'Wrong answer.', trace_ids: [judged.id, human.id] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      queued: 0,
      overridden: 1,
      conflicts: 1,
      results: [
        { trace_id: judged.id, status: 'overridden' },
        { trace_id: human.id, status: 'conflict' },
      ],
    });
    expectQ(await qOf(f, m), replayOf([{ reward: 0, alpha: 0.4 }]));
    await expectConsistentChain(f, m);
    const trace = await traceWhen(f, judged.id, p, (t) => t.ingest_status === 'completed');
    expect(trace.review).toMatchObject({ result: 'fail', source: 'human', alpha: 0.4, feedback_text: 'Wrong answer.' });
    expect(trace.judge).toMatchObject({ result: 'pass' });
    // Once overridden, the trace is a human's: a second bulk review is a conflict.
    const again = await f.t.call(f.key, { method: 'POST', url: '/v1/traces/bulk-review', project: p, payload: { result: 'pass', trace_ids: [judged.id] } });
    expect(again.json()).toMatchObject({ overridden: 0, conflicts: 1 });
    await settled(f);
  });
});

function replayOf(updates: { reward: number; alpha: number }[]): number {
  let q = 0.5;
  for (const u of updates) q = q + u.alpha * (u.reward - q);
  return q;
}

function lessonStub(task: string) {
  return {
    task,
    reflection: 'stub',
    success: false,
    summary: '',
    keyMistake: '',
    correctAction: '',
    guidance: '',
    applicableTools: [],
    toolsUsed: [],
    metadata: {},
    tags: [],
    reflectionSource: 'template',
    embedding: Array(64).fill(0.125),
    embeddingModel: 'text-embedding-3-small',
  };
}
