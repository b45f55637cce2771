/**
 * Hostile values in every input of every operation /openapi.json lists — body fields, query and
 * path parameters — plus the MCP tools' arguments. Seeded and bounded: the same few hundred
 * requests every run. Every answer must be below 500 and, if an error, `{detail, code}`; a
 * rejected request must leave every table as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { defaultChat, startFakeOpenAI, type ChatRequestBody, type FakeOpenAI, type ScriptedReply } from '../support/fakeOpenAI.js';

const SEED = 0x5eed_0010;
const MAX_REQUESTS = 320;
/** Well above the ~15 s a quiet machine needs: the suite runs beside other work on 2 cores. */
const TIMEOUT_MS = 180_000;
const BOOTSTRAP_TOKEN = 'fuzz-bootstrap-token';
/** Rows a request could write. Projects are left out: a master key naming a bank creates it by design. */
const TABLES = ['traces', 'memories', 'mental_models', 'directives', 'api_keys', 'q_value_updates', 'users'];

/** mulberry32: a tiny seeded PRNG, so a failure names a request that can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Stands for a value too deep to build as an object and stringify; spliced in as text. */
const DEEP = '\u0001deep\u0001';
const deepText = () => pick(['[', '{"a":']).repeat(5_000);
const closeDeep = (open: string) => (open.startsWith('[') ? ']' : '}').repeat(5_000);
function serialize(body: unknown): string {
  const json = JSON.stringify(body);
  const marker = JSON.stringify(DEEP);
  if (!json.includes(marker)) return json;
  const open = deepText();
  return json.replace(marker, `${open}1${closeDeep(open)}`);
}

const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
/** Hostile JSON values for a body field. */
const BODY_VALUES: [string, () => unknown][] = [
  ['NUL', () => pick(['\u0000', 'a\u0000b', 'x'.repeat(50) + '\u0000'])],
  ['unpaired surrogate', () => pick(['\ud800', 'a\udfffb', '\udc00\ud800'])],
  ['NUL in a list', () => ['ok', 'a\u0000']],
  ['NUL in a map key', () => ({ 'k\u0000': 'v' })],
  ['surrogate deep inside', () => ({ a: [{ b: ['\ud83d'] }] })],
  ['huge list', () => Array(20_000).fill(pick(['x', 1, {}]))],
  ['huge map', () => manyKeys(20_000)],
  ['deep nesting', () => DEEP],
  ['over-long string', () => 'x'.repeat(pick([101, 5_001, 300_000]))],
  ['wrong type', () => pick([12345, -1, 1e308, true, null, {}, [], [[]], 'not-the-type', '2026-13-45'])],
];

/** Hostile raw (already percent-encoded where needed) values for a query or path parameter. */
const URL_VALUES = ['%00', 'a%00b', '%C3%28', '%ED%A0%80', '%FF', 'a'.repeat(101), 'a'.repeat(5_000), '..', '%2F', '-1', '1e309', 'null', '%E2%80%AE', '%20'];

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
}
interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}

let fake: FakeOpenAI;
let t: TestApp;
let key: string;
let doc: { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };
const fixtures: Record<string, string> = {};

/** A tool-calling model: whatever the server forces or offers, it answers at once with `done`. */
function toolCallingModel(body: ChatRequestBody): ScriptedReply {
  const forced = (body.tool_choice as { function?: { name: string } } | undefined)?.function?.name;
  if (forced && forced !== 'done') return { toolCalls: [{ name: forced, arguments: { query: 'q' } }] };
  return body.tools ? { toolCalls: [{ name: 'done', arguments: { answer: 'an answer', memory_ids: [] } }] } : defaultChat(body);
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ chat: toolCallingModel });
  // The API role only: no worker turns an accepted trace into a memory while a later,
  // rejected request is being checked for writes.
  t = await buildTestApp({
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    REFLECT_EMBEDDING_PROVIDER: 'openai',
    REFLECT_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
    REFLECT_LLM_TIMEOUT_MS: '2000',
  }, { role: 'api' });
  key = await t.masterKey('fuzz-user');
  const spare = await t.call(key, { method: 'POST', url: '/v1/api-keys', payload: { label: 'spare', scopes: ['memories:read'] } });
  const trace = await t.call(key, { method: 'POST', url: '/v1/traces', payload: { task: 'a task', trajectory: 'ran it' } });
  const memory = await t.call(key, { method: 'POST', url: '/v1/memories', payload: { task: 'a task', reflection: 'a lesson' } });
  await t.call(key, { method: 'POST', url: '/v1/default/banks/default/mental-models', payload: { id: 'mm-1', name: 'n', source_query: 'q' } });
  const directive = await t.call(key, { method: 'POST', url: '/v1/default/banks/default/directives', payload: { name: 'n', content: 'c' } });
  Object.assign(fixtures, {
    apiKey: spare.json().id,
    trace: trace.json().id,
    memory: memory.json().id,
    directive: directive.json().id,
  });
  doc = (await t.call(undefined, { method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

const resolve = (schema: Schema | undefined): Schema | undefined =>
  schema?.$ref ? resolve(doc.components?.schemas?.[schema.$ref.split('/').pop()!]) : schema;

/** Every property a body may have, across the options of a top-level union. */
function bodyProperties(schema: Schema | undefined): string[] {
  const s = resolve(schema);
  if (!s) return [];
  const options = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])].flatMap(bodyProperties);
  return [...new Set([...Object.keys(s.properties ?? {}), ...options])];
}

/** A plausible valid value for a schema, so a mutation of one field is the only thing wrong. */
function sample(schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(schema);
  if (!s || depth > 4) return 'x';
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  const option = s.anyOf?.find((o) => resolve(o)?.type !== 'null') ?? s.oneOf?.[0];
  if (option) return sample(option, depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'object' || s.properties) {
    return Object.fromEntries((s.required ?? []).map((name) => [name, sample(s.properties?.[name], depth + 1)]));
  }
  return type === 'array' ? [] : type === 'integer' || type === 'number' ? 1 : type === 'boolean' ? true : 'x';
}

function fixtureFor(path: string, name: string): string {
  if (name === 'bank_id' || name === 'tenant') return 'default';
  if (name === 'mental_model_id') return 'mm-1';
  if (name === 'directive_id') return fixtures.directive!;
  if (name === 'id') {
    if (path.startsWith('/v1/traces')) return fixtures.trace!;
    if (path.startsWith('/v1/memories')) return fixtures.memory!;
    if (path.startsWith('/v1/api-keys')) return fixtures.apiKey!;
  }
  return 'x';
}

interface Request {
  label: string;
  method: string;
  url: string;
  payload?: string;
}

/** All mutations of one operation: one hostile value in one place, everything else valid. */
function mutations(path: string, method: string, op: Operation): Request[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
  const queryParams = params.filter((p) => p.in === 'query').map((p) => p.name);
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  const urlWith = (hostile?: { name: string; value: string }, query = '') =>
    path.replace(/\{(\w+)\}/g, (_m, name: string) => (hostile?.name === name ? hostile.value : fixtureFor(path, name))) + query;
  const base = bodySchema ? sample(bodySchema) : undefined;
  const validBody = base === undefined ? undefined : serialize(base);
  const out: Request[] = [];
  for (const name of pathParams) {
    for (const value of URL_VALUES) out.push({ label: `path ${name}=${value.slice(0, 20)}`, method, url: urlWith({ name, value }), payload: validBody });
  }
  for (const name of [...queryParams, 'unknown_param']) {
    for (const value of URL_VALUES) out.push({ label: `query ${name}=${value.slice(0, 20)}`, method, url: urlWith(undefined, `?${name}=${value}`), payload: validBody });
    out.push({ label: `query ${name} repeated 300 times`, method, url: urlWith(undefined, `?${Array(300).fill(`${name}=a`).join('&')}`), payload: validBody });
  }
  if (bodySchema) {
    const baseObject = typeof base === 'object' && base !== null && !Array.isArray(base) ? (base as Record<string, unknown>) : {};
    for (const field of bodyProperties(bodySchema)) {
      for (const [kind, value] of BODY_VALUES) {
        out.push({ label: `body ${field}: ${kind}`, method, url: urlWith(), payload: serialize({ ...baseObject, [field]: value() }) });
      }
    }
    for (const [kind, value] of BODY_VALUES) out.push({ label: `whole body: ${kind}`, method, url: urlWith(), payload: serialize(value()) });
  }
  return out;
}

async function counts(): Promise<Record<string, number>> {
  const select = TABLES.map((table) => `(select count(*)::int from ${table}) as ${table}`).join(', ');
  return (await t.app.database.pool.query(`select ${select}`)).rows[0] as Record<string, number>;
}

const isErrorBody = (body: unknown) =>
  typeof body === 'object' && body !== null && Object.keys(body).sort().join() === 'code,detail' && typeof (body as { code: unknown }).code === 'string';

describe(`fuzz: hostile values in every operation of /openapi.json (seed ${SEED.toString(16)})`, () => {
  it(`answers each of at most ${MAX_REQUESTS} requests below 500, errors as {detail, code}, rejected ones writing nothing`, async () => {
    const perOperation = Object.entries(doc.paths)
      .filter(([path]) => path !== '/mcp')
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => shuffle(mutations(path, method.toUpperCase(), op))));
    // Round-robin over operations, so every one gets its share of the budget.
    const requests: Request[] = [];
    for (let round = 0; requests.length < MAX_REQUESTS && perOperation.some((m) => m.length > round); round++) {
      for (const list of perOperation) if (list[round] && requests.length < MAX_REQUESTS) requests.push(list[round]!);
    }
    expect(requests.length).toBe(MAX_REQUESTS);

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let before = await counts();
    for (const request of requests) {
      const bootstrap = request.url.startsWith('/v1/bootstrap') ? { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } : {};
      const res = await t.call(request.url.startsWith('/v1/bootstrap') ? undefined : key, {
        method: request.method as 'GET',
        url: request.url,
        ...(request.payload === undefined ? {} : { payload: request.payload }),
        headers: { ...(request.payload === undefined ? {} : { 'content-type': 'application/json' }), ...bootstrap },
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const where = `${request.method} ${request.url.slice(0, 90)} [${request.label}] → ${res.statusCode} ${res.body.slice(0, 160)}`;
      if (res.statusCode >= 500) failures.push(`5xx: ${where}`);
      const after = await counts();
      if (res.statusCode >= 400) {
        let body: unknown;
        try {
          body = res.json();
        } catch {
          body = undefined;
        }
        if (!isErrorBody(body)) failures.push(`not {detail, code}: ${where}`);
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`wrote on rejection ${JSON.stringify(before)} → ${JSON.stringify(after)}: ${where}`);
      }
      before = after;
    }
    console.log(`fuzz: ${requests.length} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(failures).toEqual([]);
  }, TIMEOUT_MS);

  it('MCP tools: hostile arguments get a tool error, never an internal error or a write', async () => {
    const tools = [
      { name: 'retrieve_memories', args: { query: 'q' } },
      { name: 'create_memory', args: { task: 't', final_response: 'f', trajectory: 'ran', result: 'pass' } },
    ];
    const argNames: Record<string, string[]> = {
      retrieve_memories: ['query', 'limit', 'lambda_'],
      create_memory: ['task', 'final_response', 'trajectory', 'result', 'feedback_text', 'retrieved_memory_ids', 'metadata'],
    };
    const failures: string[] = [];
    let before = await counts();
    for (const tool of tools) {
      for (const arg of argNames[tool.name]!) {
        for (const [kind, value] of BODY_VALUES) {
          const payload = serialize({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool.name, arguments: { ...tool.args, [arg]: value() } } });
          const res = await t.call(key, {
            method: 'POST',
            url: '/mcp',
            payload,
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          });
          const where = `${tool.name}.${arg}: ${kind} → ${res.statusCode} ${res.body.slice(0, 200)}`;
          const after = await counts();
          if (res.statusCode >= 500 || res.body.includes('internal_error') || res.body.includes('Internal server error')) failures.push(where);
          const result = res.statusCode === 200 ? (res.json().result as { isError?: boolean } | undefined) : undefined;
          const rejected = res.statusCode !== 200 || result?.isError === true || res.json().error !== undefined;
          if (rejected && JSON.stringify(after) !== JSON.stringify(before)) failures.push(`wrote on rejection: ${where}`);
          before = after;
        }
      }
    }
    expect(failures).toEqual([]);
  }, TIMEOUT_MS);
});
