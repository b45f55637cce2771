import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

let fake: FakeOpenAI;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    REFLECT_EMBEDDING_PROVIDER: 'openai',
    REFLECT_METRICS_TOKEN: 'scrape-me',
  });
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

/**
 * Embeddings from the fake server, and (below) the database of the app above: a second app then
 * starts without loading a local model or opening another embedded engine (seconds each under load).
 */
function fakeEmbedder(): Record<string, string> {
  return { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' };
}

function metricValue(text: string, line: RegExp): number {
  const match = text.split('\n').find((l) => line.test(l));
  if (!match) throw new Error(`no metric line matches ${line}`);
  return Number(match.split(' ').at(-1));
}

describe('GET /metrics', () => {
  it('needs the metrics token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const wrong = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('unauthorized');
  });

  it('reports HTTP latency by route and status, LLM calls and tokens, queue depth and memories', async () => {
    const key = await t.masterKey();
    const created = await t.call(key, {
      method: 'POST',
      url: '/v1/traces',
      payload: { task: 'measure me', trajectory: 'did it', review_result: 'pass' },
    });
    await eventually(async () => {
      const trace = (await t.call(key, { method: 'GET', url: `/v1/traces/${created.json().id}` })).json();
      return trace.ingest_status === 'completed' ? trace : undefined;
    });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-me' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(metricValue(text, /^reflect_http_request_duration_seconds_count\{method="POST",route="\/v1\/traces",status_code="202"\}/)).toBe(1);
    expect(metricValue(text, /^reflect_http_request_duration_seconds_count\{method="GET",route="\/v1\/traces\/:id",status_code="200"\}/)).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, /^reflect_llm_calls_total\{outcome="ok"\}/)).toBe(1);
    expect(metricValue(text, /^reflect_llm_tokens_total\{kind="prompt"\}/)).toBeGreaterThan(0);
    expect(metricValue(text, /^reflect_llm_latency_seconds_count/)).toBe(1);
    expect(metricValue(text, /^reflect_memories /)).toBe(1);
    expect(metricValue(text, /^reflect_job_duration_seconds_count\{outcome="completed"\}/)).toBe(1);
    expect(metricValue(text, /^reflect_queue_depth /)).toBe(0);
    expect(text).toContain('reflect_nodejs_heap_size_total_bytes');
  });
});

describe('metrics exposure', () => {
  it('is off without a token or port, and served without auth on its own port', async () => {
    // Port 0: the kernel picks a free port and the app tells which (no guessed port that may be taken).
    const plain = await buildTestApp({ ...fakeEmbedder(), REFLECT_METRICS_PORT: '0' }, { database: t.app.database });
    try {
      expect((await plain.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      const port = plain.app.metricsPort!;
      expect(port).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('reflect_queue_depth');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('fails the start at once, naming REFLECT_METRICS_PORT, when its port is taken', async () => {
    const holder = await buildTestApp({ ...fakeEmbedder(), REFLECT_METRICS_PORT: '0' }, { database: t.app.database });
    try {
      const taken = String(holder.app.metricsPort);
      await expect(buildTestApp({ ...fakeEmbedder(), REFLECT_METRICS_PORT: taken }, { database: t.app.database })).rejects.toThrow(/^REFLECT_METRICS_PORT: cannot listen on .*:\d+ .*choose a free port$/);
    } finally {
      await holder.close();
    }
  });
});
