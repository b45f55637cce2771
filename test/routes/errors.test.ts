import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let key: string;
beforeAll(async () => {
  t = await buildTestApp();
  key = await t.masterKey('errors-user');
});
afterAll(() => t.close());

const errorShape = (code: string) => ({ detail: expect.any(String), code });
const trace = (extra: object = {}) => ({ task: 'sort a list', trajectory: [{ role: 'assistant', content: 'sorted' }], ...extra });

describe('error bodies are always {detail, code}', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/v1/nope'],
    ['POST', '/v1/traces/00000000-0000-4000-8000-000000000000/nope'],
  ] as const)('404 for the unknown route %s %s', async (method, url) => {
    for (const k of [undefined, key]) {
      const res = await t.call(k, { method, url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual(errorShape('not_found'));
    }
  });

  it('400 for malformed JSON, writing nothing', async () => {
    const before = await t.count('traces');
    for (const payload of ['{"task": "x",', '{bad json}', 'null x']) {
      const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(errorShape('invalid_json'));
    }
    expect(await t.count('traces')).toBe(before);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: 'task=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual(errorShape('unsupported_media_type'));
  });
});

describe('422 validation errors', () => {
  it('lists {loc, msg, type} issues, FastAPI style', async () => {
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: { trajectory: 'x' } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ detail: [{ loc: ['body', 'task'], msg: expect.any(String), type: expect.any(String) }], code: 'validation_error' });
  });

  it('names query and path parameters as FastAPI does', async () => {
    const query = await t.call(key, { method: 'GET', url: '/v1/traces?limit=501' });
    expect(query.statusCode).toBe(422);
    expect(query.json().detail[0].loc).toEqual(['query', 'limit']);
    const path = await t.call(key, { method: 'GET', url: '/v1/traces/not-a-uuid' });
    expect(path.statusCode).toBe(422);
    expect(path.json().detail[0].loc).toEqual(['path', 'id']);
  });

  it.each([
    ['missing task', { trajectory: 'x' }, 'task'],
    ['empty task', trace({ task: '' }), 'task'],
    ['whitespace task', trace({ task: ' \n\t ' }), 'task'],
    ['numeric task', trace({ task: 5 }), 'task'],
    ['numeric trajectory', trace({ trajectory: 5 }), 'trajectory'],
    ['missing trajectory', { task: 'x' }, 'trajectory'],
    ['message without role', trace({ trajectory: [{ content: 'hi' }] }), 'trajectory'],
    ['string metadata', trace({ metadata: 'x' }), 'metadata'],
    ['unknown review_result', trace({ review_result: 'maybe' }), 'review_result'],
    ['alpha 0', trace({ alpha: 0 }), 'alpha'],
    ['alpha 1.5', trace({ alpha: 1.5 }), 'alpha'],
    ['alpha -1', trace({ alpha: -1 }), 'alpha'],
    ['alpha as a string', trace({ alpha: '0.5' }), 'alpha'],
    ['a retrieved id that is not a uuid', trace({ retrieved_memory_ids: ['abc'] }), 'retrieved_memory_ids'],
  ])('POST /v1/traces with %s → 422, nothing written', async (_name, payload, field) => {
    const before = await t.count('traces');
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.code).toBe('validation_error');
    for (const issue of body.detail) expect(issue).toEqual({ loc: expect.any(Array), msg: expect.any(String), type: expect.any(String) });
    expect(body.detail.map((d: { loc: unknown[] }) => d.loc.slice(0, 2))).toContainEqual(['body', field]);
    expect(await t.count('traces')).toBe(before);
  });

  it('a body that is not an object → 422 at ["body"]', async () => {
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: '[1, 2]', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail[0].loc).toEqual(['body']);
  });

  it('alpha 1 is valid', async () => {
    const before = await t.count('traces');
    const res = await t.call(key, { method: 'POST', url: '/v1/traces', payload: trace({ alpha: 1 }) });
    expect(res.statusCode).toBe(202);
    expect(await t.count('traces')).toBe(before + 1);
  });
});

describe('body size', () => {
  /** The real HTTP stack: Fastify refuses by Content-Length before reading, or while streaming. */
  async function post(url: string, body: string | ReadableStream<Uint8Array>): Promise<{ status: number; json: unknown }> {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(typeof body === 'string' ? {} : { duplex: 'half' }),
    } as RequestInit);
    return { status: res.status, json: await res.json() };
  }
  const jsonOfSize = (bytes: number) => `{"task":"big","trajectory":"${'a'.repeat(bytes - 36)}"}`;
  /** A body sent in chunks without Content-Length, so only the streaming limit can stop it. */
  const chunked = (bytes: number) => {
    const chunk = new TextEncoder().encode('a'.repeat(1024 * 1024));
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"task":"big","trajectory":"'));
        if (sent >= bytes) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
  };

  it('the default limit is 10 MB: 9.5 MB is read (and validated), 11 MB and 60 MB are 413', async () => {
    expect(t.config.bodyLimit).toBe(10 * 1024 * 1024);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/v1/traces`;
    const before = await t.count('traces');

    const underLimit = await post(url, jsonOfSize(9.5 * 1024 * 1024));
    expect(underLimit.status).toBe(422); // past the size check: the trajectory is longer than a trace allows
    for (const size of [11, 60]) {
      const res = await post(url, jsonOfSize(size * 1024 * 1024));
      expect(res.status).toBe(413);
      expect(res.json).toEqual(errorShape('payload_too_large'));
    }
    const streamed = await post(url, chunked(11 * 1024 * 1024));
    expect(streamed.status).toBe(413);
    expect(streamed.json).toEqual(errorShape('payload_too_large'));
    expect(await t.count('traces')).toBe(before);
  });

  describe('with REFLECT_BODY_LIMIT=2048', () => {
    let small: TestApp;
    beforeAll(async () => {
      small = await buildTestApp({ REFLECT_BODY_LIMIT: '2048' });
    });
    afterAll(() => small.close());

    it('bodies over the limit are 413, writing nothing', async () => {
      const smallKey = await small.masterKey();
      const fits = await small.call(smallKey, { method: 'POST', url: '/v1/traces', payload: trace({ task: 'a'.repeat(1500) }) });
      expect(fits.statusCode).toBe(202);
      const before = await small.count('traces');
      const res = await small.call(smallKey, { method: 'POST', url: '/v1/traces', payload: trace({ task: 'a'.repeat(3000) }) });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual(errorShape('payload_too_large'));
      expect(await small.count('traces')).toBe(before);
    });
  });
});

describe('5xx', () => {
  it('never includes a stack trace or the internal message', async () => {
    const pool = t.app.database.pool;
    // A real failure under the app: the table every authenticated request reads is gone.
    await pool.query('alter table api_keys rename to api_keys_away');
    try {
      for (const request of [
        { method: 'GET' as const, url: '/v1/traces' },
        { method: 'POST' as const, url: '/v1/traces', payload: trace() },
        { method: 'GET' as const, url: '/v1/api-keys' },
      ]) {
        const res = await t.call(key, request);
        expect(res.statusCode).toBe(500);
        expect(res.json()).toStrictEqual({ detail: 'Internal server error', code: 'internal_error' });
        expect(res.body).not.toMatch(/api_keys|relation|at .*\.ts|stack/);
      }
    } finally {
      await pool.query('alter table api_keys_away rename to api_keys');
    }
    expect((await t.call(key, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(200);
  });
});

describe('503 while draining', () => {
  let draining: TestApp;
  beforeAll(async () => {
    draining = await buildTestApp();
  });

  it('a request arriving on an open connection during shutdown gets the contract shape', async () => {
    const drainKey = await draining.masterKey();
    await draining.app.listen({ port: 0, host: '127.0.0.1' });
    const socket = net.connect((draining.app.server.address() as AddressInfo).port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d));
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      // A request in flight (half its body sent) keeps the connection open while close() starts…
      const body = JSON.stringify(trace());
      const routed = new Promise((resolve) => draining.app.server.once('request', resolve));
      socket.write(
        `POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${drainKey}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
      );
      await routed;
      const closed = draining.app.close();
      await new Promise((resolve) => setImmediate(resolve));
      // …then it completes, and a second request follows on the same connection.
      socket.write(`${body.slice(5)}GET /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${drainKey}\r\n\r\n`);
      await new Promise((resolve) => socket.once('close', resolve));
      await closed;
      const responses = received.split(/(?=HTTP\/1\.1 )/);
      expect(responses.map((r) => r.slice(9, 12))).toEqual(['202', '503']);
      expect(JSON.parse(responses[1]!.slice(responses[1]!.indexOf('\r\n\r\n') + 4))).toEqual(errorShape('shutting_down'));
    } finally {
      socket.destroy();
      await draining.app.close();
    }
  });
});
