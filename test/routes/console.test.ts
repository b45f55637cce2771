import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/routes/console.js';
import { buildTestApp, type TestApp } from '../support/app.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('console pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-console.mjs', '--if-stale'], { stdio: 'inherit' });
    t = await buildTestApp();
  });
  afterAll(() => t?.close());

  it.each(['/', '/traces', '/traces/00000000-0000-4000-8000-000000000000', '/review'])('serves the page at %s with a strict CSP and no framing', async (url) => {
    const res = await t.call(undefined, { method: 'GET', url, headers: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<div id="app">');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves the hashed assets the page names, cached for good', async () => {
    const page = await t.call(undefined, { method: 'GET', url: '/', headers: HTML });
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const res = await t.call(undefined, { method: 'GET', url: script! });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it.each(['/v1/nope', '/v1/traces/x/y', '/mcp/nope', '/docs/nope.json', '/health/x', '/ready/x', '/assets/missing.js', '/openapi.json/x'])(
    'keeps the JSON 404 of the API for %s, even for a browser',
    async (url) => {
      const res = await t.call(undefined, { method: 'GET', url, headers: HTML });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found' });
    },
  );

  it('answers a non-browser GET of an unknown path with the JSON 404', async () => {
    const res = await t.call(undefined, { method: 'GET', url: '/nope', headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
  });

  it('leaves the API as it was: /health JSON, 401 without a key', async () => {
    expect((await t.call(undefined, { method: 'GET', url: '/health', headers: HTML })).json()).toEqual({ status: 'ok' });
    const res = await t.call(undefined, { method: 'GET', url: '/v1/traces', headers: HTML });
    expect(res.statusCode).toBe(401);
  });
});
