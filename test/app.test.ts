import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './support/app.js';

describe('the worker role', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({}, { role: 'worker' });
  });
  afterAll(() => t.close());

  it('serves health and readiness but not the API', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const api = await t.app.inject({ method: 'GET', url: '/v1/traces' });
    expect(api.statusCode).toBe(404);
    expect(api.json().code).toBe('not_found');
    expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(404);
  });
});
