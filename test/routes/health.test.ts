import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { killAllServerProcesses, startServerProcess } from '../support/serverProcess.js';

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
  expect(res.json()).toStrictEqual({ status: 'ok', database: 'ok', queue: 'ok', llm: 'not_configured' });
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
      expect(res.json()).toStrictEqual({ status: 'unavailable', database: 'unavailable', queue: 'ok', llm: 'not_configured' });
      expect((await broken.call(undefined, { method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      // The pool is already ended; let the app close the rest (engine, queue) normally.
      pool.end = async () => {};
      await broken.close();
    }
  });
});

/** A port nothing listens on: bound once to learn a free number, then closed. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the LLM endpoint in /ready (informational: never fails readiness)', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await fake.close();
  });

  it('ok when it answers GET /models', async () => {
    const t = await buildTestApp({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL });
    try {
      const res = await t.call(undefined, { method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toStrictEqual({ status: 'ok', database: 'ok', queue: 'ok', llm: 'ok' });
      expect(fake.requests.some((r) => r.method === 'GET' && r.path === '/v1/models')).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('unreachable on a closed port, with readiness still 200', async () => {
    const t = await buildTestApp({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    try {
      const res = await t.call(undefined, { method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toStrictEqual({ status: 'ok', database: 'ok', queue: 'ok', llm: 'unreachable' });
    } finally {
      await t.close();
    }
  });

  it('a server whose LLM is unreachable starts, and says so in its log once it listens', async () => {
    const server = await startServerProcess(['src/server.ts'], {
      REFLECT_DATA_DIR: 'memory://',
      OPENAI_API_KEY: 'sk-secret-test-key',
      OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
    });
    try {
      const ready = await fetch(`${server.baseUrl}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', llm: 'unreachable' });
      // The log line was written before /ready answered; the pipe may deliver it a moment later.
      const warning = /the LLM endpoint is unreachable: .*check OPENAI_BASE_URL and OPENAI_API_KEY/;
      await eventually(async () => warning.test(server.output()) || undefined, 10_000);
      expect(server.output()).not.toContain('sk-secret-test-key');
    } finally {
      await server.stop();
    }
  }, 120_000);
});
