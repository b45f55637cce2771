import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

it.each(['/health', '/v1/health'])('GET %s → {"status":"ok"} without a key', async (url) => {
  const res = await t.call(undefined, { method: 'GET', url });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toStrictEqual({ status: 'ok' });
});

it('health ignores a bad key rather than rejecting it', async () => {
  const res = await t.call('not-a-key', { method: 'GET', url: '/health' });
  expect(res.statusCode).toBe(200);
});

it('GET /ready → 200 with the database and queue reachable, without a key', async () => {
  const res = await t.call(undefined, { method: 'GET', url: '/ready' });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toStrictEqual({ status: 'ok', database: 'ok', queue: 'ok' });
});

describe('when the database is gone', () => {
  let broken: TestApp;
  beforeAll(async () => {
    broken = await buildTestApp();
  });

  it('GET /ready → 503 naming the database', async () => {
    const { pool } = broken.app.database;
    await pool.end();
    try {
      const res = await broken.call(undefined, { method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toStrictEqual({ status: 'unavailable', database: 'unavailable', queue: 'ok' });
      expect((await broken.call(undefined, { method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      // The pool is already ended; let the app close the rest (engine, queue) normally.
      pool.end = async () => {};
      await broken.close();
    }
  });
});
