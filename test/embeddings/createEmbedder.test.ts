import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/embeddings/index.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

describe('createEmbedder', () => {
  let fake: FakeOpenAI;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ embeddingDimensions: 16 });
    client = new OpenAI({ apiKey: 'sk-test-create-embedder', baseURL: fake.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('builds the local model, cached', async () => {
    const embedder = await createEmbedder({ provider: 'local', model: 'all-MiniLM-L6-v2', cacheSize: 10 });
    try {
      expect(embedder.model).toBe('local:all-MiniLM-L6-v2');
      expect(embedder.dimensions).toBe(384);
      const [first] = await embedder.embed(['hello world']);
      const [second] = await embedder.embed(['hello world']);
      expect(second).toEqual(first);
      expect(second).not.toBe(first);
    } finally {
      await embedder.close();
    }
  });

  it('refuses a local model it does not ship, naming REFLECT_EMBEDDING_MODEL', async () => {
    await expect(createEmbedder({ provider: 'local', model: 'bge-large', cacheSize: 0 })).rejects.toThrow(
      /REFLECT_EMBEDDING_MODEL=bge-large .*all-MiniLM-L6-v2/,
    );
  });

  it('refuses local dimensions other than 384, naming REFLECT_EMBEDDING_DIMENSIONS', async () => {
    await expect(createEmbedder({ provider: 'local', dimensions: 768, cacheSize: 0 })).rejects.toThrow(
      /REFLECT_EMBEDDING_DIMENSIONS=768/,
    );
  });

  it('needs an OpenAI client for the openai provider, naming OPENAI_API_KEY', async () => {
    await expect(createEmbedder({ provider: 'openai', cacheSize: 0 })).rejects.toThrow(/OPENAI_API_KEY/);
  });

  it('defaults the OpenAI model to text-embedding-3-small and caches its vectors', async () => {
    const embedder = await createEmbedder({ provider: 'openai', cacheSize: 10 }, client);
    expect(embedder.model).toBe('openai:text-embedding-3-small');
    expect(embedder.dimensions).toBe(16);
    const before = fake.requests.length;
    await embedder.embed(['remember this']);
    await embedder.embed(['remember this']);
    expect(fake.requests.length - before).toBe(1);
    await embedder.close();
  });

  it('passes the configured OpenAI model and dimensions through', async () => {
    const embedder = await createEmbedder(
      { provider: 'openai', model: 'text-embedding-3-large', dimensions: 256, cacheSize: 0 },
      client,
    );
    expect(embedder.model).toBe('openai:text-embedding-3-large');
    expect(embedder.dimensions).toBe(256);
    const [vector] = await embedder.embed(['x']);
    expect(vector).toHaveLength(256);
    expect(fake.requests.at(-1)?.body).toMatchObject({ model: 'text-embedding-3-large', dimensions: 256 });
  });
});
