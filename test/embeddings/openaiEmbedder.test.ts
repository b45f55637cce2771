import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createOpenAIEmbedder,
  EmbeddingRequestError,
  OPENAI_MAX_INPUTS_PER_REQUEST,
} from '../../src/embeddings/openaiEmbedder.js';
import { hashVector, startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

const API_KEY = 'sk-test-embeddings-0123456789abcdef';
const clientFor = (baseURL: string) => new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
const embeddingRequests = (fake: FakeOpenAI) =>
  fake.requests.filter((r) => r.path === '/v1/embeddings').map((r) => r.body as Record<string, unknown>);

/** A one-purpose /v1/embeddings server for replies the shared fake does not script. */
async function startServer(reply: (body: { input: string[] }) => { status: number; json: unknown }) {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const { status, json } = reply(JSON.parse(raw) as { input: string[] });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function fakeOpenAI(options: Parameters<typeof startFakeOpenAI>[0]) {
  const fake = await startFakeOpenAI(options);
  cleanups.push(() => fake.close());
  return fake;
}

describe('createOpenAIEmbedder', () => {
  it('learns the dimensions with one probe call when they are not configured', async () => {
    const fake = await fakeOpenAI({ embeddingDimensions: 12 });
    const embedder = await createOpenAIEmbedder({ client: clientFor(fake.baseURL), model: 'text-embedding-3-small' });
    expect(embedder.model).toBe('openai:text-embedding-3-small');
    expect(embedder.dimensions).toBe(12);
    const requests = embeddingRequests(fake);
    expect(requests).toHaveLength(1);
    expect(requests[0]).not.toHaveProperty('dimensions');
    expect(requests[0]).toMatchObject({ model: 'text-embedding-3-small' });
  });

  it('sends configured dimensions and makes no probe call', async () => {
    const fake = await fakeOpenAI({});
    const embedder = await createOpenAIEmbedder({
      client: clientFor(fake.baseURL),
      model: 'text-embedding-3-large',
      dimensions: 64,
    });
    expect(embedder.dimensions).toBe(64);
    expect(embeddingRequests(fake)).toHaveLength(0);
    const [vector] = await embedder.embed(['hello']);
    expect(vector).toHaveLength(64);
    expect(embeddingRequests(fake)).toEqual([
      { model: 'text-embedding-3-large', input: ['hello'], dimensions: 64, encoding_format: 'float' },
    ]);
  });

  it('normalises vectors to unit length', async () => {
    const fake = await fakeOpenAI({ embeddingDimensions: 3, vectors: { 'not unit': [3, 4, 0] } });
    const embedder = await createOpenAIEmbedder({ client: clientFor(fake.baseURL), model: 'm', dimensions: 3 });
    const [vector] = await embedder.embed(['not unit']);
    expect(vector![0]).toBeCloseTo(0.6, 10);
    expect(vector![1]).toBeCloseTo(0.8, 10);
    expect(vector![2]).toBe(0);
  });

  it(`splits large inputs into requests of at most ${OPENAI_MAX_INPUTS_PER_REQUEST} texts, keeping order`, async () => {
    const fake = await fakeOpenAI({ embeddingDimensions: 4 });
    const embedder = await createOpenAIEmbedder({ client: clientFor(fake.baseURL), model: 'm', dimensions: 4 });
    const texts = Array.from({ length: 2 * OPENAI_MAX_INPUTS_PER_REQUEST + 5 }, (_, i) => `text ${i}`);
    const vectors = await embedder.embed(texts);
    expect(embeddingRequests(fake).map((body) => (body.input as string[]).length)).toEqual([2048, 2048, 5]);
    expect(vectors).toHaveLength(texts.length);
    for (const i of [0, 2047, 2048, 4100]) {
      hashVector(texts[i]!, 4).forEach((x, d) => expect(vectors[i]![d]).toBeCloseTo(x, 6));
    }
  });

  it('puts vectors back in input order when the server lists them out of order', async () => {
    const server = await startServer(({ input }) => ({
      status: 200,
      json: {
        object: 'list',
        model: 'm',
        // Text i gets the i-th axis, listed last to first.
        data: input.map((_, index) => ({ object: 'embedding', index, embedding: [0, 0, 0].with(index, 2) })).reverse(),
        usage: { prompt_tokens: 1, total_tokens: 1 },
      },
    }));
    cleanups.push(server.close);
    const embedder = await createOpenAIEmbedder({ client: clientFor(server.baseURL), model: 'm', dimensions: 3 });
    expect(await embedder.embed(['a', 'b', 'c'])).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  });

  it('rejects vectors of the wrong length', async () => {
    const fake = await fakeOpenAI({ vectors: { short: [1, 0, 0] } });
    const embedder = await createOpenAIEmbedder({ client: clientFor(fake.baseURL), model: 'm', dimensions: 8 });
    await expect(embedder.embed(['short'])).rejects.toThrow(/returned 3-d vectors; expected 8/);
  });

  it('reports an API error clearly, with its status, and never with the key', async () => {
    const server = await startServer(() => ({
      status: 401,
      json: {
        error: { message: `Incorrect API key provided: ${API_KEY}.`, type: 'invalid_request_error', code: null },
      },
    }));
    cleanups.push(server.close);
    const failure = await createOpenAIEmbedder({
      client: clientFor(server.baseURL),
      model: 'text-embedding-3-small',
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EmbeddingRequestError);
    const { message, status } = failure as EmbeddingRequestError;
    expect(status).toBe(401);
    expect(message).toMatch(/OpenAI embeddings request failed \(model text-embedding-3-small, 1 texts\): 401/);
    expect(message).toContain('Incorrect API key provided');
    expect(message).not.toContain(API_KEY);
    expect(message).not.toContain('0123456789abcdef');
  });

  it('reports an unreachable server clearly', async () => {
    const server = await startServer(() => ({ status: 500, json: {} }));
    await server.close(); // nothing listens on this port any more
    const embedder = await createOpenAIEmbedder({ client: clientFor(server.baseURL), model: 'm', dimensions: 2 });
    await expect(embedder.embed(['x'])).rejects.toThrow(
      /OpenAI embeddings request failed \(model m, 1 texts\): Connection error/,
    );
  });
});
