import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TraceWire } from '../../src/traces/models.js';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';

// The fake OpenAI server is LLM and embedder: reflections are instant and embeddings are
// hash-derived, so a query with a memory's exact task text finds it with similarity 1.
let fake: FakeOpenAI;
let t: TestApp;
let baseUrl: string;
let master: string;
const clients: Client[] = [];

const PROJECT_A = 'mcp-a';
const PROJECT_B = 'mcp-b';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL, REFLECT_EMBEDDING_PROVIDER: 'openai' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  master = await t.masterKey('mcp-user', PROJECT_A);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

/** The SDK's own client over real HTTP, with the REST API's headers. */
async function connect(key: string, project?: string): Promise<Client> {
  const client = new Client({ name: 'reflect-mcp-test', version: '1.0.0' });
  const headers: Record<string, string> = { Authorization: `Bearer ${key}`, ...(project ? { 'X-Project-Id': project } : {}) };
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  const [first] = result.content;
  if (first?.type !== 'text') throw new Error(`expected text content, got ${JSON.stringify(result.content)}`);
  return first.text;
}

/** A REST call over the same HTTP port the MCP client uses. */
async function rest(key: string | undefined, method: string, path: string, options: { body?: unknown; project?: string } = {}) {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
      ...(options.project ? { 'X-Project-Id': options.project } : {}),
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

function waitUntilReviewed(id: string, project: string): Promise<TraceWire> {
  return eventually(async () => {
    const res = await rest(master, 'GET', `/v1/traces/${id}`, { project });
    expect(res.status).toBe(200);
    const trace = res.json as TraceWire;
    return trace.review_status === 'reviewed' || trace.ingest_status === 'failed' ? trace : undefined;
  });
}

let taskCounter = 0;
const uniqueTask = (label: string) => `${label} #${++taskCounter}-${Math.random().toString(36).slice(2, 8)}`;

type Submission = { id: string; trace_id: string; ingest_status: string };
type Memory = { id: string; task: string; success: boolean | null; source_trace_id: string | null; similarity: number; score: number };

describe('POST /mcp', () => {
  it('lists exactly the two tools, with their input schemas', async () => {
    const client = await connect(master, PROJECT_A);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['create_memory', 'retrieve_memories']);

    const retrieve = tools.find((tool) => tool.name === 'retrieve_memories')!;
    expect(Object.keys(retrieve.inputSchema.properties ?? {}).sort()).toEqual(['lambda_', 'limit', 'query']);
    expect(retrieve.inputSchema.required).toEqual(['query']);
    expect(retrieve.inputSchema.properties?.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 20, default: 5 });
    expect(retrieve.inputSchema.properties?.lambda_).toMatchObject({ minimum: 0, maximum: 1, default: 0.5 });
    expect(retrieve.outputSchema).toBeDefined();

    const create = tools.find((tool) => tool.name === 'create_memory')!;
    expect(Object.keys(create.inputSchema.properties ?? {}).sort()).toEqual(
      ['feedback_text', 'final_response', 'metadata', 'result', 'retrieved_memory_ids', 'task', 'trajectory'].sort(),
    );
    expect([...(create.inputSchema.required ?? [])].sort()).toEqual(['final_response', 'result', 'task', 'trajectory']);
    expect(create.inputSchema.properties?.result).toMatchObject({ enum: ['pass', 'fail'] });
    const trajectory = create.inputSchema.properties?.trajectory as { anyOf: { type: string }[] };
    expect(trajectory.anyOf.map((s) => s.type).sort()).toEqual(['array', 'string']);
    // Input schemas go to LLM function calling: no references to resolve.
    expect(JSON.stringify([retrieve.inputSchema, create.inputSchema])).not.toContain('$ref');
  });

  it('create_memory (pass) runs the learning loop; retrieve_memories then returns the memory, exactly as REST does', async () => {
    const client = await connect(master, PROJECT_A);
    const task = uniqueTask('Count the orders placed in March');
    const trajectory = [
      { role: 'user', content: 'How many orders were placed in March?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'run_sql', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '412' },
      { role: 'assistant', content: '412 orders.' },
    ];
    const created = await callTool(client, 'create_memory', {
      task,
      final_response: '412 orders.',
      trajectory,
      result: 'pass',
      feedback_text: 'Correct, filtered by month',
      metadata: { team: 'data' },
    });
    expect(created.isError).toBeFalsy();
    const submission = created.structuredContent as Submission;
    expect(submission).toEqual({ id: expect.any(String), trace_id: submission.id, ingest_status: 'queued' });
    expect(JSON.parse(textOf(created))).toEqual(submission);

    const trace = await waitUntilReviewed(submission.id, PROJECT_A);
    expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', final_response: '412 orders.', metadata: { team: 'data' } });
    expect(trace.review).toMatchObject({ result: 'pass', feedback_text: 'Correct, filtered by month' });
    expect(trace.trajectory).toEqual(trajectory);
    expect(trace.created_memory_id).toEqual(expect.any(String));

    const retrieved = await callTool(client, 'retrieve_memories', { query: task });
    expect(retrieved.isError).toBeFalsy();
    const memories = (retrieved.structuredContent as { memories: Memory[] }).memories;
    expect(JSON.parse(textOf(retrieved))).toEqual(memories);
    expect(memories[0]).toMatchObject({ id: trace.created_memory_id, task, success: true, source_trace_id: submission.id, similarity: 1 });
    expect(memories.length).toBeLessThanOrEqual(5);

    // Same service call as POST /v1/memories/query with the tool's defaults (limit 5, lambda_ 0.5).
    const viaRest = await rest(master, 'POST', '/v1/memories/query', { body: { task, limit: 5, lambda_: 0.5 }, project: PROJECT_A });
    expect(viaRest.status).toBe(200);
    expect(memories).toEqual(viaRest.json);

    // The retrieved id feeds back: a second run that used it moves its Q-value.
    const followUp = await callTool(client, 'create_memory', {
      task: uniqueTask('Count the orders placed in April'),
      final_response: '380 orders.',
      trajectory: 'Filtered by April, counted 380.',
      result: 'pass',
      retrieved_memory_ids: [trace.created_memory_id],
    });
    await waitUntilReviewed((followUp.structuredContent as Submission).id, PROJECT_A);
    const memory = await rest(master, 'GET', `/v1/memories/${trace.created_memory_id}`, { project: PROJECT_A });
    expect(memory.json.q_value).toBeCloseTo(0.5 + 0.3 * (1 - 0.5));
  });

  it('accepts the trajectory as plain text, as a JSON string, and as a list', async () => {
    const client = await connect(master, PROJECT_A);
    const list = [
      { role: 'user', content: 'Ping?' },
      { role: 'assistant', content: 'Pong.' },
    ];
    const cases = [
      { trajectory: 'Looked up the table, then answered wrongly.', expected: [{ role: 'summary', content: 'Looked up the table, then answered wrongly.' }] },
      { trajectory: JSON.stringify(list), expected: list },
      { trajectory: list, expected: list },
    ];
    for (const { trajectory, expected } of cases) {
      const result = await callTool(client, 'create_memory', { task: uniqueTask('Answer a ping'), final_response: 'Pong.', trajectory, result: 'fail' });
      expect(result.isError, textOf(result)).toBeFalsy();
      const { id } = result.structuredContent as Submission;
      const trace = await rest(master, 'GET', `/v1/traces/${id}`, { project: PROJECT_A });
      expect(trace.json.trajectory).toEqual(expected);
      expect(trace.json.review.result).toBe('fail');
    }
  });

  it('rejects invalid arguments as tool errors: limit over 20, and a blank query by the REST rules', async () => {
    const client = await connect(master, PROJECT_A);
    const tooMany = await callTool(client, 'retrieve_memories', { query: 'anything', limit: 21 });
    expect(tooMany.isError).toBe(true);
    expect(textOf(tooMany)).toMatch(/limit/);

    const blank = await callTool(client, 'retrieve_memories', { query: '   ' });
    expect(blank.isError).toBe(true);
    expect(JSON.parse(textOf(blank))).toMatchObject({ code: 'validation_error', detail: [{ loc: ['arguments', 'task'], msg: 'Must not be empty' }] });
  });

  it('answers a request without a key with 401 in the error shape', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    };
    const res = await rest(undefined, 'POST', '/mcp', { body: initialize });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ detail: expect.any(String), code: 'unauthorized' });

    const client = new Client({ name: 'no-key', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL('/mcp', baseUrl)))).rejects.toThrow(/401|Missing API key/);
  });

  it('checks each tool’s scope: a key without memories:read gets a tool error from retrieve_memories', async () => {
    const created = await rest(master, 'POST', '/v1/api-keys', { body: { label: 'writer', scopes: ['traces:write'] }, project: PROJECT_A });
    expect(created.status).toBe(201);
    const client = await connect(created.json.api_key, PROJECT_A);

    const denied = await callTool(client, 'retrieve_memories', { query: 'anything' });
    expect(denied.isError).toBe(true);
    expect(JSON.parse(textOf(denied))).toEqual({ detail: 'API key lacks the scope "memories:read"', code: 'forbidden' });

    // The same connection still works for the tool the key may use.
    const allowed = await callTool(client, 'create_memory', { task: uniqueTask('Write things'), final_response: 'done', trajectory: 'did it', result: 'pass' });
    expect(allowed.isError, textOf(allowed)).toBeFalsy();
  });

  it('keeps projects apart: a memory made in project A is not retrieved in project B', async () => {
    const inA = await connect(master, PROJECT_A);
    const task = uniqueTask('Rotate the logs');
    const created = await callTool(inA, 'create_memory', { task, final_response: 'rotated', trajectory: 'ran logrotate', result: 'pass' });
    const trace = await waitUntilReviewed((created.structuredContent as Submission).id, PROJECT_A);
    const memoryId = trace.created_memory_id;
    expect(memoryId).toEqual(expect.any(String));

    const fromA = (await callTool(inA, 'retrieve_memories', { query: task })).structuredContent as { memories: Memory[] };
    expect(fromA.memories.map((m) => m.id)).toContain(memoryId);

    const inB = await connect(master, PROJECT_B);
    const fromB = await callTool(inB, 'retrieve_memories', { query: task, limit: 20 });
    expect(fromB.isError).toBeFalsy();
    expect((fromB.structuredContent as { memories: Memory[] }).memories.map((m) => m.id)).not.toContain(memoryId);
  });

  it('answers GET and DELETE with 405 in the error shape (stateless: no stream, no session)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await rest(master, method, '/mcp', { project: PROJECT_A });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(res.json).toEqual({ detail: expect.any(String), code: 'method_not_allowed' });
    }
  });
});
