import { describe, expect, it } from 'vitest';
import { createTrace, getTrace, memoriesOfTrace, uniqueTask, useLoopApp, waitForTrace } from '../support/learning.js';

// Validation, conflicts and listing do not depend on the job transport: embedded only.
const f = useLoopApp('embedded');
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

async function rowCounts() {
  return { traces: await f.t.count('traces'), projects: await f.t.count('projects'), memories: await f.t.count('memories') };
}

describe('POST /v1/traces rejects bad input and stores nothing', () => {
  const ok = { task: 'valid task', trajectory: [{ role: 'user', content: 'hi' }] };
  it.each([
    ['no task', { trajectory: ok.trajectory }, 'task'],
    ['a blank task', { ...ok, task: '   ' }, 'task'],
    ['no trajectory', { task: 'x' }, 'trajectory'],
    ['a number as trajectory', { ...ok, trajectory: 42 }, 'trajectory'],
    ['a message without role', { ...ok, trajectory: [{ content: 'no role' }] }, 'trajectory'],
    ['an unknown review result', { ...ok, review_result: 'maybe' }, 'review_result'],
    ['alpha 0', { ...ok, review_result: 'pass', alpha: 0 }, 'alpha'],
    ['alpha above 1', { ...ok, review_result: 'pass', alpha: 1.5 }, 'alpha'],
    ['a retrieved id that is not a UUID', { ...ok, retrieved_memory_ids: ['not-a-uuid'] }, 'retrieved_memory_ids'],
    ['metadata that is not an object', { ...ok, metadata: 'tags' }, 'metadata'],
  ])('%s → 422', async (_case, payload, field) => {
    const before = await rowCounts();
    // A master key naming a new project would create it, but not for a rejected request.
    const res = await f.t.call(f.key, { method: 'POST', url: '/v1/traces', payload, project: 'never-created' });
    expect(res.statusCode).toBe(422);
    const detail = res.json().detail as Array<{ loc: unknown[]; msg: string; type: string }>;
    expect(detail.some((d) => d.loc.includes(field))).toBe(true);
    expect(await rowCounts()).toEqual(before);
  });

  it('malformed JSON → 400, nothing stored', async () => {
    const before = await rowCounts();
    const res = await f.t.call(f.key, { method: 'POST', url: '/v1/traces', payload: '{"task": ', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(await rowCounts()).toEqual(before);
  });
});

describe('POST /v1/traces/{id}/review', () => {
  it('rejects a bad review with 422 and leaves the trace as it was', async () => {
    const id = await createTrace(f, { task: uniqueTask('Bad review'), trajectory: 'x' });
    for (const payload of [{ result: 'maybe' }, { result: 'pass', alpha: 2 }, {}]) {
      const res = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload });
      expect(res.statusCode).toBe(422);
    }
    expect(await getTrace(f, id)).toMatchObject({ review: null, review_status: 'pending', ingest_status: 'completed', ingest_attempts: 0 });
  });

  it('answers 409 to a second review and keeps the first', async () => {
    const id = await createTrace(f, { task: uniqueTask('Reviewed twice'), trajectory: 'x' });
    const first = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result: 'pass', feedback_text: 'first' } });
    expect(first.statusCode).toBe(200);
    const second = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result: 'fail', feedback_text: 'second' } });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'conflict' });
    const trace = await waitForTrace(f, id);
    expect(trace.review).toMatchObject({ result: 'pass', feedback_text: 'first' });
    expect(await memoriesOfTrace(f, id)).toBe(1);
  });

  it('answers 409 to a review of a trace created with its review', async () => {
    const id = await createTrace(f, { task: uniqueTask('Inline then review'), trajectory: 'x', review_result: 'fail' });
    const res = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result: 'pass' } });
    expect(res.statusCode).toBe(409);
    expect((await waitForTrace(f, id)).review?.result).toBe('fail');
  });

  it('lets exactly one of two simultaneous reviews through', async () => {
    const id = await createTrace(f, { task: uniqueTask('Racing reviews'), trajectory: 'x' });
    const results = await Promise.all(
      ['pass', 'fail'].map((result) => f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result } })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.statusCode === 200)!.json().review.result;
    expect((await waitForTrace(f, id)).review?.result).toBe(winner);
  });

  it('answers 404 for an unknown trace and for one of another project or user', async () => {
    expect((await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${UNKNOWN}/review`, payload: { result: 'pass' } })).statusCode).toBe(404);

    const id = await createTrace(f, { task: uniqueTask('Someone else’s'), trajectory: 'x' });
    const otherUser = await f.t.masterKey('user-2');
    for (const [key, project] of [
      [f.key, 'another-project'],
      [otherUser, undefined],
    ] as const) {
      const review = await f.t.call(key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result: 'pass' }, project });
      expect(review.statusCode).toBe(404);
      expect((await f.t.call(key, { method: 'GET', url: `/v1/traces/${id}`, project })).statusCode).toBe(404);
      expect((await f.t.call(key, { method: 'POST', url: `/v1/traces/${id}/retry`, project })).statusCode).toBe(404);
    }
    expect(await getTrace(f, id)).toMatchObject({ review: null, review_status: 'pending' });
  });
});

describe('GET /v1/traces', () => {
  const project = 'listing';
  const list = (query: string) => f.t.call(f.key, { method: 'GET', url: `/v1/traces${query}`, project });

  it('filters by review status, ingest status and model, newest first, with X-Total-Count', async () => {
    const a = await createTrace(f, { task: 'A', trajectory: 'x', model: 'm1' }, project);
    const b = await createTrace(f, { task: 'B', trajectory: 'x', model: 'm2', review_result: 'pass' }, project);
    const c = await createTrace(f, { task: 'C', trajectory: 'x', model: 'm1', review_result: 'fail' }, project);
    await waitForTrace(f, b, undefined, project);
    await waitForTrace(f, c, undefined, project);

    const ids = async (query: string) => {
      const res = await list(query);
      expect(res.statusCode).toBe(200);
      return { ids: (res.json() as Array<{ id: string }>).map((t) => t.id), total: res.headers['x-total-count'] };
    };
    expect(await ids('')).toEqual({ ids: [c, b, a], total: '3' });
    expect(await ids('?review_status=pending')).toEqual({ ids: [a], total: '1' });
    expect(await ids('?review_status=reviewed')).toEqual({ ids: [c, b], total: '2' });
    expect(await ids('?ingest_status=completed')).toEqual({ ids: [c, b, a], total: '3' });
    expect(await ids('?ingest_status=failed')).toEqual({ ids: [], total: '0' });
    expect(await ids('?model=m1')).toEqual({ ids: [c, a], total: '2' });
    expect(await ids('?model=m1&review_status=reviewed')).toEqual({ ids: [c], total: '1' });
    expect(await ids('?limit=2')).toEqual({ ids: [c, b], total: '3' });
    expect(await ids('?limit=2&offset=2')).toEqual({ ids: [a], total: '3' });
    expect(await ids('?offset=5')).toEqual({ ids: [], total: '3' });
  });

  it.each(['?limit=0', '?limit=501', '?offset=-1', '?review_status=done', '?ingest_status=stuck'])('%s → 422', async (query) => {
    expect((await list(query)).statusCode).toBe(422);
  });
});
