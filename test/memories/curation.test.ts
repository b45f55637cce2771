import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIEmbedder } from '../../src/embeddings/openaiEmbedder.js';
import { reembedMemories } from '../../src/memories/reembed.js';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

const VECTORS: Record<string, number[]> = {
  'book a flight': [1, 0, 0],
  'book a train': [0, 1, 0],
  'book a hotel': [0, 0, 1],
};

let fake: FakeOpenAI;
let t: TestApp;
let key: string;

async function create(task: string, extra: Record<string, unknown> = {}) {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories', payload: { task, reflection: `about ${task}`, ...extra } });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function embeddingOf(id: string): Promise<{ embedding: string; model: string }> {
  const { rows } = await t.app.database.pool.query('select embedding::text as embedding, embedding_model as model from memories where id = $1', [id]);
  return rows[0];
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ vectors: VECTORS, embeddingDimensions: 3 });
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' });
  key = await t.masterKey();
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('memory curation', () => {
  it('creates with defaults, tags from metadata.tags, and success from result aliases', async () => {
    const m = await create('book a flight', { metadata: { tags: ['travel', 'air'] }, result: 'failure' });
    expect(m).toMatchObject({ q_value: 0.5, similarity: 0, score: 0, success: false, summary: '', applicable_tools: [], tags: ['travel', 'air'] });
    expect((await create('book a train', { tags: ['rail'], result: 'success' })).success).toBe(true);
    expect((await create('book a hotel')).success).toBeNull();
  });

  it('keeps a memory\'s fact type through the query path', async () => {
    const world = await create('book a train', { fact_type: 'world', tags: ['facts'] });
    expect(world.fact_type).toBe('world');
    const found = await t.call(key, { method: 'POST', url: '/v1/memories/query', payload: { task: 'book a train', lambda_: 0, limit: 10 } });
    expect(found.json().find((m: { id: string }) => m.id === world.id).fact_type).toBe('world');
    await t.call(key, { method: 'DELETE', url: `/v1/memories/${world.id}` });
  });

  it('lists with pagination, sorting and X-Total-Count', async () => {
    const ids = (await t.call(key, { method: 'GET', url: '/v1/memories?limit=500' })).json().map((m: { id: string }) => m.id);
    await t.app.database.pool.query('update memories set q_value = 0.9 where id = $1', [ids[2]]);
    const res = await t.call(key, { method: 'GET', url: '/v1/memories?sort=q_value&limit=1' });
    expect(res.headers['x-total-count']).toBe(String(ids.length));
    expect(res.json().map((m: { id: string }) => m.id)).toEqual([ids[2]]);
    const page2 = await t.call(key, { method: 'GET', url: '/v1/memories?limit=1&offset=1' });
    expect(page2.json()[0].id).toBe(ids[1]);
    expect((await t.call(key, { method: 'GET', url: '/v1/memories?limit=0' })).statusCode).toBe(422);
    expect((await t.call(key, { method: 'GET', url: '/v1/memories?sort=task' })).statusCode).toBe(422);
  });

  it('PATCH keeps the vector unless the task changes, then re-embeds it', async () => {
    const m = await create('book a flight');
    const before = await embeddingOf(m.id);
    const edited = await t.call(key, {
      method: 'PATCH',
      url: `/v1/memories/${m.id}`,
      payload: { reflection: 'compare fares first', tags: ['travel'], metadata: { airline: 'any' } },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ task: 'book a flight', reflection: 'compare fares first', tags: ['travel'], metadata: { airline: 'any' } });
    expect(await embeddingOf(m.id)).toEqual(before);

    const moved = await t.call(key, { method: 'PATCH', url: `/v1/memories/${m.id}`, payload: { task: 'book a hotel' } });
    expect(moved.json().task).toBe('book a hotel');
    expect((await embeddingOf(m.id)).embedding).toBe('[0,0,1]');
    const found = await t.call(key, { method: 'POST', url: '/v1/memories/query', payload: { task: 'book a hotel', lambda_: 0, limit: 1 } });
    expect(found.json()[0].similarity).toBeCloseTo(1, 6);

    expect((await t.call(key, { method: 'PATCH', url: `/v1/memories/${m.id}`, payload: {} })).statusCode).toBe(422);
    expect((await t.call(key, { method: 'PATCH', url: `/v1/memories/${m.id}`, payload: { task: ' ' } })).statusCode).toBe(422);
  });

  it('DELETE removes the memory; ids of other projects are 404', async () => {
    const m = await create('book a train');
    const other = await t.call(key, { method: 'DELETE', url: `/v1/memories/${m.id}`, project: 'elsewhere' });
    expect(other.statusCode).toBe(404);
    const gone = await t.call(key, { method: 'DELETE', url: `/v1/memories/${m.id}` });
    expect(gone.statusCode).toBe(200);
    expect(gone.json().id).toBe(m.id);
    expect((await t.call(key, { method: 'GET', url: `/v1/memories/${m.id}` })).statusCode).toBe(404);
    expect((await t.call(key, { method: 'DELETE', url: `/v1/memories/${m.id}` })).statusCode).toBe(404);
  });

  it('history lists the Q changes made by reviews, oldest first', async () => {
    const m = await create('book a flight');
    for (const [result, alpha] of [['fail', 0.5], ['pass', 0.3]] as const) {
      const res = await t.call(key, {
        method: 'POST',
        url: '/v1/traces',
        payload: { task: 'book a flight', trajectory: 'done', retrieved_memory_ids: [m.id], review_result: result, alpha },
      });
      const id = res.json().id;
      await eventually(async () => {
        const trace = (await t.call(key, { method: 'GET', url: `/v1/traces/${id}` })).json();
        return trace.review_status === 'reviewed' ? trace : undefined;
      });
    }
    const history = (await t.call(key, { method: 'GET', url: `/v1/memories/${m.id}/history` })).json();
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ memory_id: m.id, q_before: 0.5, reward: 0, alpha: 0.5 });
    expect(history[0].q_after).toBeCloseTo(0.25, 9);
    expect(history[1].q_before).toBeCloseTo(0.25, 9);
    expect(history[1].q_after).toBeCloseTo(0.475, 9);
    expect((await t.call(key, { method: 'GET', url: `/v1/memories/${m.id}/history`, project: 'elsewhere' })).statusCode).toBe(404);
  });

  it('never compares vectors of different models; reembed brings memories to the active model', async () => {
    const m = await create('book a train');
    const other = await createOpenAIEmbedder({ client: t.app.openai!, model: 'another-model' });
    await reembedMemories({ db: t.app.database.db, pool: t.app.database.pool, embedder: other }, {});
    expect((await embeddingOf(m.id)).model).toBe('openai:another-model');
    const query = { method: 'POST' as const, url: '/v1/memories/query', payload: { task: 'book a train', lambda_: 0 } };
    expect((await t.call(key, query)).json()).toEqual([]);

    const progress: number[] = [];
    const count = await reembedMemories(
      { db: t.app.database.db, pool: t.app.database.pool, embedder: t.app.embedder },
      { onProgress: (done) => progress.push(done) },
    );
    expect(count).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(count);
    const results = (await t.call(key, query)).json();
    expect(results[0].similarity).toBeCloseTo(1, 6);
  });
});
