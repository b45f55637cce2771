import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import { JUDGE_PROMPT_START } from '../../src/judge/judgePrompt.js';
import { eventually } from './app.js';
import { judgeVerdict, startFakeOpenAI, type FakeOpenAI } from './fakeOpenAI.js';

describe('fake OpenAI server', () => {
  let fake: FakeOpenAI;
  let client: OpenAI;

  beforeEach(async () => {
    fake = await startFakeOpenAI({ vectors: { known: [0.5, 0.25, -0.5, 0.125] } });
    client = new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries: 0 });
  });
  afterEach(async () => {
    await fake.close();
  });

  const ask = (content: string) =>
    client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content }] });

  it('returns scripted content in order, then the default reflection', async () => {
    fake.enqueue({ content: 'first' }, (body) => ({ content: `echo ${body.messages?.length}` }));

    expect((await ask('a')).choices[0]?.message.content).toBe('first');
    expect((await ask('b')).choices[0]?.message.content).toBe('echo 1');
    const fallback = await ask('<task>\nsort a list\n</task>\n<outcome>\nfail\n</outcome>');
    const reflection = JSON.parse(fallback.choices[0]?.message.content ?? '');
    expect(reflection.reflection).toContain('sort a list');
    expect(reflection.summary).toBe('Failed: sort a list');
    expect(fallback.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("answers the server's judge from its own queue, then with the default verdict", async () => {
    const judge = (task: string) =>
      client.chat.completions.create({
        model: 'fake-model',
        messages: [
          { role: 'system', content: `${JUDGE_PROMPT_START}: …` },
          { role: 'user', content: `<task>\n${task}\n</task>` },
        ],
      });
    fake.enqueue({ content: 'for the reflection' });
    fake.enqueueJudge(judgeVerdict('fail', 'scripted'));
    expect(JSON.parse((await judge('anything')).choices[0]?.message.content ?? '')).toEqual({ verdict: 'fail', reason: 'scripted' });
    expect(JSON.parse((await judge('this should fail')).choices[0]?.message.content ?? '').verdict).toBe('fail');
    expect(JSON.parse((await judge('sort a list')).choices[0]?.message.content ?? '').verdict).toBe('pass');
    expect((await ask('a')).choices[0]?.message.content).toBe('for the reflection');
  });

  it('holds a reply until the test releases it', async () => {
    let release!: () => void;
    fake.enqueue({ release: new Promise<void>((resolve) => (release = resolve)), reply: { content: 'released' } });
    let answered = false;
    const pending = ask('wait').then((r) => {
      answered = true;
      return r;
    });
    await eventually(async () => (fake.requests.length === 1 ? true : undefined));
    expect(answered).toBe(false);
    release();
    expect((await pending).choices[0]?.message.content).toBe('released');
  });

  it('records each request with its path, body and headers', async () => {
    await ask('what was sent');
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(JSON.stringify(request?.body)).toContain('what was sent');
    expect(request?.headers.authorization).toBe('Bearer test');
  });

  it('returns tool calls the client parses', async () => {
    fake.enqueue({ toolCalls: [{ name: 'search_docs', arguments: { query: 'vitest' } }] });
    const response = await ask('look it up');
    const choice = response.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('search_docs');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ query: 'vitest' });
  });

  it('returns garbage content as a normal message', async () => {
    fake.enqueue({ garbage: 'this is not json' });
    expect((await ask('x')).choices[0]?.message.content).toBe('this is not json');
  });

  it('surfaces a 500 as an APIError with that status', async () => {
    fake.enqueue({ status: 500 });
    const error = await ask('x').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(500);
  });

  it('surfaces a 429 with its retry-after header', async () => {
    fake.enqueue({ status: 429, headers: { 'retry-after': '7' } });
    const error = (await ask('x').catch((err: unknown) => err)) as APIError;
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('7');
  });

  it('hangs until the client times out', async () => {
    const impatient = new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries: 0, timeout: 150 });
    fake.enqueue({ hang: true });
    const error = await impatient.chat.completions
      .create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('adds latency to chat completions', async () => {
    fake.latencyMs = 120;
    const started = Date.now();
    await ask('slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('returns known vectors, and deterministic unit vectors for other text', async () => {
    const response = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['known', 'other text'],
    });
    expect(response.model).toBe('text-embedding-3-small');
    expect(response.usage.total_tokens).toBeGreaterThan(0);
    expect(response.data[0]?.embedding).toEqual([0.5, 0.25, -0.5, 0.125]);

    const fallback = response.data[1]?.embedding ?? [];
    expect(fallback).toHaveLength(4); // the known vectors' dimension
    expect(Math.hypot(...fallback)).toBeCloseTo(1, 5);

    const again = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'other text',
      encoding_format: 'float',
    });
    const repeated = again.data[0]?.embedding ?? [];
    repeated.forEach((value, index) => expect(value).toBeCloseTo(fallback[index] ?? NaN, 6));
  });

  it('lists models and answers unknown paths with a 404 in OpenAI error shape', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain('fake-model');

    const response = await fetch(`${fake.baseURL}/no/such/path`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('/v1/no/such/path');
  });
});
