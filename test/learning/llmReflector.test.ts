import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import {
  MalformedReflectionError,
  ReflectionError,
  createLlmReflector,
  retryAfterMsFrom,
} from '../../src/learning/llmReflector.js';
import type { ReflectionInput } from '../../src/learning/reflection.js';
import type { Reflector } from '../../src/learning/reflection.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

const input: ReflectionInput = {
  task: 'Find the release date of version 2.0',
  trajectory: [
    { role: 'user', content: 'When was 2.0 released?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search_docs', arguments: '{"q":"2.0"}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'Changelog: 2.0 released 2024-05-02' },
    { role: 'assistant', content: 'It was released in March.' },
  ],
  finalResponse: 'It was released in March.',
  result: 'fail',
  feedbackText: 'Wrong month: it was May.',
  referenceContext: null,
};

const modelAnswer = {
  reflection: 'Read the tool result carefully before answering with a date.',
  summary: 'Failed: release date of 2.0',
  key_mistake: 'Ignored the changelog date returned by search_docs.',
  correct_action: 'Answer May, as the changelog says.',
  guidance: 'Quote dates from tool results verbatim.',
  applicable_tools: ['search_docs'],
  tools_used: ['search_docs'],
};

const API_KEY = 'sk-test-secret-key-1234567890';

async function failureOf(reflector: Reflector): Promise<ReflectionError> {
  const error = await reflector.reflect(input).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ReflectionError);
  expect((error as Error).message).not.toContain(API_KEY);
  return error as ReflectionError;
}

describe('LLM reflector against a fake OpenAI server', () => {
  let fake: FakeOpenAI;
  let reflector: Reflector;

  beforeEach(async () => {
    fake = await startFakeOpenAI();
    const client = new OpenAI({ apiKey: API_KEY, baseURL: fake.baseURL, maxRetries: 0, timeout: 5_000 });
    reflector = createLlmReflector({ client, model: 'fake-model', maxPromptChars: 12_000 });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('returns the model fields and sends the run as delimited JSON-mode prompt', async () => {
    fake.enqueue({ content: JSON.stringify(modelAnswer) });

    expect(await reflector.reflect(input)).toEqual({ ...modelAnswer, source: 'llm' });
    expect(fake.requests).toHaveLength(1);
    const body = fake.requests[0]?.body as {
      model: string;
      temperature: number;
      response_format: unknown;
      messages: Array<{ role: string; content: string }>;
    };
    expect(body.model).toBe('fake-model');
    expect(body.temperature).toBe(0);
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages.map((message) => message.role)).toEqual(['system', 'user']);
    const user = body.messages[1]?.content ?? '';
    expect(user).toContain('<task>\nFind the release date of version 2.0\n</task>');
    expect(user).toContain('calls tool search_docs');
    expect(user).toContain('Wrong month: it was May.');
  });

  it('stores what the default fake model writes, end to end', async () => {
    const reflection = await reflector.reflect(input);
    expect(reflection.source).toBe('llm');
    expect(reflection.reflection).toContain('Find the release date of version 2.0');
    expect(reflection.summary).toBe('Failed: Find the release date of version 2.0');
  });

  it('asks once more after a malformed answer and uses the second', async () => {
    fake.enqueue({ garbage: 'Sorry, here is my thinking: the agent was wrong.' }, { content: JSON.stringify(modelAnswer) });

    expect(await reflector.reflect(input)).toEqual({ ...modelAnswer, source: 'llm' });
    expect(fake.requests).toHaveLength(2);
    const retry = fake.requests[1]?.body as { messages: Array<{ role: string; content: string }> };
    expect(retry.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(retry.messages[2]?.content).toBe('Sorry, here is my thinking: the agent was wrong.');
    expect(retry.messages[3]?.content).toContain('ONLY one JSON object');
  });

  it('gives up with a retryable MalformedReflectionError after two malformed answers', async () => {
    fake.enqueue({ garbage: 'not json' }, { content: '{"summary": "no reflection key"}' });

    const error = await failureOf(reflector);
    expect(error).toBeInstanceOf(MalformedReflectionError);
    expect(error.retryable).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it('classifies a 500 as retryable without retrying it itself', async () => {
    fake.enqueue({ status: 500 });
    const error = await failureOf(reflector);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('500');
    expect(fake.requests).toHaveLength(1);
  });

  it('passes on the wait a 429 asks for', async () => {
    fake.enqueue({ status: 429, headers: { 'retry-after': '3' } });
    const error = await failureOf(reflector);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(3000);
  });

  it('treats a 401 as not retryable and keeps the key out of the message', async () => {
    fake.enqueue({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${API_KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } },
    });
    const error = await failureOf(reflector);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('401');
    expect(error.message).toContain('[redacted]');
  });

  it('classifies a 200 whose body is a proxy HTML page as retryable, as a 5xx', async () => {
    fake.enqueue({ rawBody: '<html><body><h1>502 Bad Gateway</h1>nginx</body></html>' });
    const error = await failureOf(reflector);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/not a chat completion/);
    expect(error.message).toContain('502 Bad Gateway');
    expect(fake.requests).toHaveLength(1);
  });

  it('classifies a 200 labelled JSON whose body does not parse as retryable', async () => {
    fake.enqueue({ rawBody: '<!DOCTYPE html><title>Sign in</title>', contentType: 'application/json' });
    const error = await failureOf(reflector);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/not JSON/);
  });

  it('treats a 400 as not retryable', async () => {
    fake.enqueue({ status: 400 });
    expect((await failureOf(reflector)).retryable).toBe(false);
  });

  it('classifies a client timeout as retryable', async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: fake.baseURL, maxRetries: 0, timeout: 200 });
    const impatient = createLlmReflector({ client, model: 'fake-model', maxPromptChars: 12_000 });
    fake.enqueue({ hang: true });

    const started = Date.now();
    const error = await failureOf(impatient);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('classifies a refused connection as retryable', async () => {
    await fake.close();
    const error = await failureOf(reflector);
    expect(error.retryable).toBe(true);
  });
});

describe('retryAfterMsFrom', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(retryAfterMsFrom(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterMsFrom(new Headers({ 'retry-after-ms': '250', 'retry-after': '3' }), now)).toBe(250);
    expect(retryAfterMsFrom(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' }), now)).toBe(10_000);
    expect(retryAfterMsFrom(new Headers({ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }), now)).toBe(0);
  });

  it('gives nothing when there is no usable hint', () => {
    expect(retryAfterMsFrom(undefined)).toBeUndefined();
    expect(retryAfterMsFrom(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });
});
