import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ REFLECT_RATE_LIMIT_MAX: '3', REFLECT_RATE_LIMIT_WINDOW_MS: '60000' });
});
afterAll(() => t.close());

it('the 4th request with one key in a window is 429 with Retry-After; another key is unaffected', async () => {
  const limited = await t.masterKey('limited-user');
  const other = await t.masterKey('other-user');
  for (let i = 0; i < 3; i++) {
    const res = await t.call(limited, { method: 'GET', url: '/v1/traces' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
  }

  const before = await t.count('traces');
  const res = await t.call(limited, { method: 'POST', url: '/v1/traces', payload: { task: 'x', trajectory: 'y' } });
  expect(res.statusCode).toBe(429);
  expect(res.json()).toEqual({ detail: expect.stringMatching(/rate limit/i), code: 'rate_limited' });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(await t.count('traces')).toBe(before);

  // The same key from another address is still the same key.
  const elsewhere = await t.call(limited, { method: 'GET', url: '/v1/traces', remoteAddress: '10.1.2.3' });
  expect(elsewhere.statusCode).toBe(429);

  for (let i = 0; i < 3; i++) expect((await t.call(other, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
  expect((await t.call(other, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(429);
});

it('health checks are never limited', async () => {
  for (let i = 0; i < 6; i++) {
    expect((await t.call(undefined, { method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await t.call(undefined, { method: 'GET', url: '/ready' })).statusCode).toBe(200);
  }
});

it('rejected keys and bootstrap attempts are limited per address', async () => {
  const wrongKey = `rf_live_abcdefghijkl_${'x'.repeat(40)}`;
  const guess = (remoteAddress: string) => t.call(wrongKey, { method: 'GET', url: '/v1/traces', remoteAddress });
  for (let i = 0; i < 3; i++) expect((await guess('10.9.9.1')).statusCode).toBe(401);
  const limited = await guess('10.9.9.1');
  expect(limited.statusCode).toBe(429);
  expect(limited.json()).toEqual({ detail: expect.any(String), code: 'rate_limited' });
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect((await guess('10.9.9.2')).statusCode).toBe(401);

  const bootstrap = (remoteAddress: string) =>
    t.call('wrong-token', { method: 'POST', url: '/v1/bootstrap', payload: { user_id: 'u', project_id: 'p' }, remoteAddress });
  for (let i = 0; i < 3; i++) expect((await bootstrap('10.9.9.3')).statusCode).toBe(403);
  expect((await bootstrap('10.9.9.3')).statusCode).toBe(429);
});
