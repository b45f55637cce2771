import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { llmEnv } from '../support/learning.js';
import { skipRedis, startRedis, type RedisServer } from '../support/redis.js';

const LIMIT = 5;

// Two API processes (two apps) on one database and one Redis, as `docker compose up --scale api=2` runs them.
describe.skipIf(skipRedis())('rate limit shared through Redis', () => {
  let redis: RedisServer;
  let database: Database;
  let first: TestApp;
  let second: TestApp;
  let fake: FakeOpenAI;

  beforeAll(async () => {
    redis = await startRedis();
    database = await openDatabase({ dataDir: 'memory://' });
    fake = await startFakeOpenAI();
    const env = { ...llmEnv(fake), REDIS_URL: redis.url, REFLECT_RATE_LIMIT_MAX: String(LIMIT), REFLECT_RATE_LIMIT_WINDOW_MS: '60000' };
    first = await buildTestApp(env, { database, role: 'api' });
    second = await buildTestApp(env, { database, role: 'api' });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.close();
    await redis?.close();
    await fake?.close();
  });

  it('counts one key across both processes: the combined count hits 429 at the limit', async () => {
    const key = await first.masterKey('shared-limit-user');
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const app = i % 2 === 0 ? first : second;
      statuses.push((await app.call(key, { method: 'GET', url: '/v1/traces' })).statusCode);
    }
    // Before: each process counted alone, so both still answered 200 here (N processes, N× the limit).
    expect(statuses).toEqual(Array(LIMIT).fill(200));
    const overFirst = await first.call(key, { method: 'GET', url: '/v1/traces' });
    const overSecond = await second.call(key, { method: 'GET', url: '/v1/traces' });
    expect(overFirst.statusCode).toBe(429);
    expect(overSecond.statusCode).toBe(429);
    expect(overSecond.json()).toEqual({ detail: expect.stringMatching(/rate limit/i), code: 'rate_limited' });
    expect(Number(overSecond.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('fails open while Redis is down: requests are served, not refused or 500', async () => {
    const key = await first.masterKey('outage-user');
    await redis.stop();
    try {
      for (let i = 0; i < LIMIT + 2; i++) {
        expect((await first.call(key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
      }
    } finally {
      await redis.start();
    }
    // Once Redis is back (empty: nothing persisted), the shared count applies again.
    await waitUntilCounted(first, key);
    for (let i = 1; i < LIMIT; i++) expect((await second.call(key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
    expect((await first.call(key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(429);
  });
});

describe.skipIf(skipRedis())('rate limit with Redis down at start', () => {
  let redis: RedisServer;
  let fake: FakeOpenAI;
  let database: Database;
  beforeAll(async () => {
    redis = await startRedis();
    fake = await startFakeOpenAI();
    database = await openDatabase({ dataDir: 'memory://' });
    await redis.stop();
  });
  afterAll(async () => {
    await database?.close();
    await redis?.close();
    await fake?.close();
  });

  it('starts and serves, unlimited, until Redis answers', async () => {
    // Before: the client's first connection error rejected the start-up wait, and the start failed.
    const app = await buildTestApp({ ...llmEnv(fake), REDIS_URL: redis.url, REFLECT_RATE_LIMIT_MAX: '2' }, { database, role: 'api' });
    try {
      const key = await app.masterKey('early-user');
      for (let i = 0; i < 4; i++) expect((await app.call(key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

/** Calls until a response carries the limiter's count from Redis (after the client has reconnected). */
async function waitUntilCounted(app: TestApp, key: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await app.call(key, { method: 'GET', url: '/v1/traces' });
    if (res.headers['x-ratelimit-remaining'] === String(LIMIT - 1)) return;
    if (Date.now() > deadline) throw new Error('the limiter did not count through Redis again within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
