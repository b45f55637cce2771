import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let key: string;
let port: number;
beforeAll(async () => {
  t = await buildTestApp();
  key = await t.masterKey('client-errors');
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(() => t.close());

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Bytes as sent, on a socket of their own: the server's parser sees exactly what is written here. */
function send(request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) socket.destroy();
    });
    socket.on('close', () => {
      const text = received.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      try {
        resolve({ status: Number(statusLine?.split(' ')[1]), headers, body: JSON.parse(text.slice(end + 4)) });
      } catch (error) {
        reject(new Error(`not a JSON response: ${JSON.stringify(text)} (${(error as Error).message})`));
      }
    });
    socket.on('error', reject);
    socket.write(request);
  });
}

const errorShape = (code: string) => ({ detail: expect.any(String), code });
const auth = () => `Authorization: Bearer ${key}\r\n`;

describe('malformed HTTP gets {detail, code} from the raw socket handler', () => {
  it.each([
    ['headers over 16 KB', (): string => `GET /v1/traces HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['a URL over 16 KB', (): string => `GET /v1/traces?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'headers_too_large'],
    ['a control byte in a header value', (): string => `GET /v1/traces HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n`, 400, 'malformed_request'],
    ['a NUL byte in a header value', (): string => `GET /v1/traces HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`, 400, 'malformed_request'],
    ['a space in a header name', (): string => `GET /v1/traces HTTP/1.1\r\nHost: x\r\nX Bad: 1\r\n\r\n`, 400, 'malformed_request'],
    ['a Content-Length that is not a number', (): string => `POST /v1/traces HTTP/1.1\r\nHost: x\r\n${auth()}Content-Length: abc\r\n\r\n`, 400, 'invalid_content_length'],
    ['two different Content-Lengths', (): string => `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}`, 400, 'invalid_content_length'],
    [
      'a chunk size that is not hex',
      (): string => `POST /v1/traces HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      400,
      'invalid_chunked_encoding',
    ],
    ['an unknown method', (): string => `FROB /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n`, 501, 'method_not_implemented'],
    ['a request line that is not HTTP', (): string => `GET /v1/traces XTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'malformed_request'],
  ] as const)('%s', async (_name, request, status, code) => {
    const before = await t.count('traces');
    const res = await send(request());
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(errorShape(code));
    expect(await t.count('traces')).toBe(before);
  });

  it('a chunk error after the request was routed still answers in the contract shape, once', async () => {
    const before = await t.count('traces');
    const body = '{"task":"t","trajectory":"x"}';
    const res = await send(
      `POST /v1/traces HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${body.length.toString(16)}\r\n${body}\r\nnot-hex\r\n`,
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorShape('invalid_chunked_encoding'));
    expect(await t.count('traces')).toBe(before);
  });
});

describe('errors before routing', () => {
  it('a path that is not valid percent-encoded UTF-8 → 400 bad_url', async () => {
    for (const path of ['/v1/traces/%C3%28', '/v1/traces/%ED%A0%80', '/v1/default/banks/default/mental-models/%FF']) {
      const res = await send(`GET ${path} HTTP/1.1\r\nHost: x\r\n${auth()}\r\n`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorShape('bad_url'));
      const injected = await t.call(key, { method: 'GET', url: path });
      expect(injected.statusCode).toBe(400);
      expect(injected.json()).toEqual(errorShape('bad_url'));
    }
  });

  // (A GET this long matches the console's catch-all page route instead, which answers the API's JSON 404.)
  it('a path parameter over 100 characters → 414 uri_too_long', async () => {
    const res = await send(`POST /v1/default/banks/default/mental-models/${'a'.repeat(101)}/refresh HTTP/1.1\r\nHost: x\r\n${auth()}\r\n`);
    expect(res.status).toBe(414);
    expect(res.body).toEqual(errorShape('uri_too_long'));
    expect((res.body as { detail: string }).detail.length).toBeLessThan(300);
  });

  it('a method HTTP knows but no route has → 404 in the contract shape', async () => {
    const res = await send(`PROPFIND /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(errorShape('not_found'));
  });

  it('well-formed requests on the same server still work', async () => {
    const res = await send(`GET /v1/traces HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`);
    expect(res.status).toBe(200);
  });
});
