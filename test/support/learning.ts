/**
 * Fixtures for the learning-loop tests: one app per describe block on either job transport,
 * with the fake OpenAI server as LLM and embedder, and small helpers that go through HTTP.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createOpenAIEmbedder } from '../../src/embeddings/openaiEmbedder.js';
import type { TraceWire } from '../../src/traces/models.js';
import { buildTestApp, eventually, type TestApp } from './app.js';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI, type FakeOpenAIOptions, type RecordedRequest } from './fakeOpenAI.js';
import { startRedis, type RedisServer } from './redis.js';

export type Transport = 'embedded' | 'redis';

export interface LoopFixture {
  t: TestApp;
  fake: FakeOpenAI;
  redis: RedisServer | undefined;
  /** A master key of user-1; its default project is `default`. */
  key: string;
}

export interface LoopOptions {
  env?: Record<string, string>;
  /** false: no OPENAI_API_KEY (template reflections); embeddings still come from the fake. */
  llm?: boolean;
  /** A database opened by useSharedDatabase() (the app does not close it). */
  database?: SharedDatabase;
  /** Options of the fake OpenAI server (scripted chat replies, fixed vectors). */
  fake?: FakeOpenAIOptions;
}

export interface SharedDatabase {
  readonly current: Database;
}

/**
 * One embedded database for a whole file (opening one costs seconds), registered as top-level
 * hooks. The apps of the file's describe blocks run one after the other on it; each block
 * waits for its own work to finish before its app closes, so none is left for the next.
 */
export function useSharedDatabase(): SharedDatabase {
  let database: Database | undefined;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await database?.close();
  });
  return {
    get current() {
      if (!database) throw new Error('useSharedDatabase(): the database is opened in beforeAll');
      return database;
    },
  };
}

/** Waits until no trace is queued or processing: nothing is left for whoever uses the database next. */
export async function drained(t: TestApp): Promise<void> {
  await eventually(async () => {
    const { rows } = await t.app.database.pool.query("select count(*)::int as n from traces where ingest_status in ('queued', 'processing')");
    return rows[0].n === 0 ? true : undefined;
  }, 20_000);
}

/** The environment that points the LLM and the embedder at the fake. */
export function llmEnv(fake: FakeOpenAI): Record<string, string> {
  return { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' };
}

/** Registers beforeAll/afterAll that build (and tear down) an app on `transport`. */
export function useLoopApp(transport: Transport, options: LoopOptions = {}): LoopFixture {
  const fixture = {} as LoopFixture;
  beforeAll(async () => {
    fixture.fake = await startFakeOpenAI(options.fake);
    fixture.redis = transport === 'redis' ? await startRedis() : undefined;
    const env = {
      ...(options.llm === false ? {} : llmEnv(fixture.fake)),
      ...(fixture.redis ? { REDIS_URL: fixture.redis.url } : {}),
      ...options.env,
    };
    const embedder =
      options.llm === false
        ? await createOpenAIEmbedder({
            client: new OpenAI({ apiKey: 'test', baseURL: fixture.fake.baseURL, maxRetries: 0 }),
            model: 'text-embedding-3-small',
          })
        : undefined;
    fixture.t = await buildTestApp(env, {
      ...(embedder ? { embedder } : {}),
      ...(options.database ? { database: options.database.current } : {}),
    });
    fixture.key = await fixture.t.masterKey();
  });
  afterAll(async () => {
    if (fixture.t && options.database) await drained(fixture.t);
    await fixture.t?.close();
    await fixture.redis?.close();
    await fixture.fake?.close();
  });
  return fixture;
}

/** POST /v1/traces; expects 202 and returns the new id. */
export async function createTrace(f: LoopFixture, body: Record<string, unknown>, project?: string): Promise<string> {
  const res = await f.t.call(f.key, { method: 'POST', url: '/v1/traces', payload: body, project });
  expect(res.statusCode, res.body).toBe(202);
  const json = res.json() as { id: string; trace_id: string; ingest_status: string };
  expect(json.trace_id).toBe(json.id);
  expect(json.ingest_status).toBe(body.review_result ? 'queued' : 'completed');
  return json.id;
}

export async function getTrace(f: LoopFixture, id: string, project?: string): Promise<TraceWire> {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/traces/${id}`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as TraceWire;
}

/** Polls GET /v1/traces/{id} until the work is over: reviewed, or failed for good. */
export function waitForTrace(
  f: LoopFixture,
  id: string,
  done: (trace: TraceWire) => boolean = (tr) => tr.review_status === 'reviewed' || tr.ingest_status === 'failed',
  project?: string,
): Promise<TraceWire> {
  return eventually(async () => {
    const trace = await getTrace(f, id, project);
    return done(trace) ? trace : undefined;
  }, 20_000);
}

export async function getMemory(f: LoopFixture, id: string, project?: string): Promise<Record<string, unknown>> {
  const res = await f.t.call(f.key, { method: 'GET', url: `/v1/memories/${id}`, project });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Record<string, unknown>;
}

/** POST /v1/memories (q 0.5); returns the memory id. */
export async function createMemory(f: LoopFixture, task: string, project?: string): Promise<string> {
  const res = await f.t.call(f.key, { method: 'POST', url: '/v1/memories', payload: { task, reflection: `About ${task}` }, project });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

/** Chat completion requests the fake received whose prompt mentions `marker` (e.g. a unique task). */
export function chatRequestsAbout(fake: FakeOpenAI, marker: string): RecordedRequest[] {
  return fake.requests.filter((r) => r.path === '/v1/chat/completions' && userPrompt(r).includes(marker));
}

/** The user message of a recorded reflection request. */
export function userPrompt(request: RecordedRequest): string {
  const messages = (request.body as ChatRequestBody | undefined)?.messages ?? [];
  const user = messages.find((m) => m.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

/** Memories whose source is `traceId`, counted in the database (the API has no such filter). */
export async function memoriesOfTrace(f: LoopFixture, traceId: string): Promise<number> {
  const result = await f.t.app.database.pool.query('select count(*)::int as n from memories where source_trace_id = $1', [traceId]);
  return result.rows[0].n as number;
}

let counter = 0;
/** A task text no other test uses, so requests and rows can be told apart. */
export function uniqueTask(label: string): string {
  counter += 1;
  return `${label} #${counter}-${Math.random().toString(36).slice(2, 8)}`;
}
