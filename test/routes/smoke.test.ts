import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

it('records a reviewed trace and turns it into a memory', async () => {
  const key = await t.masterKey();
  const created = await t.call(key, {
    method: 'POST',
    url: '/v1/traces',
    payload: { task: 'add two numbers', trajectory: [{ role: 'assistant', content: '2' }], review_result: 'success' },
  });
  expect(created.statusCode).toBe(202);
  const { id, ingest_status } = created.json();
  expect(ingest_status).toBe('queued');
  const trace = await eventually(async () => {
    const res = await t.call(key, { method: 'GET', url: `/v1/traces/${id}` });
    return res.json().review_status === 'reviewed' ? res.json() : undefined;
  });
  expect(trace.final_response).toBe('2');
  const memory = await t.call(key, { method: 'GET', url: `/v1/memories/${trace.created_memory_id}` });
  expect(memory.json()).toMatchObject({ q_value: 0.5, success: true, source_trace_id: id });
});
