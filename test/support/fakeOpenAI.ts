/**
 * A fake OpenAI-compatible HTTP server for tests and benchmarks. The real `openai` client talks
 * to it unchanged, so tests exercise real HTTP, real client error classes and real timeouts.
 *
 * Standalone: `npx tsx test/support/fakeOpenAI.ts --port 0 --latency 200 [--dimensions 384] [--embeddings words]` prints
 * `FAKE_OPENAI_URL=<baseURL>` and serves until SIGTERM.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { meanUnitVector } from '../../src/embeddings/vectorMath.js';
import { fixtureVector } from '../../src/benchLearning/fixtureEmbeddings.js';
import { JUDGE_PROMPT_START } from '../../src/judge/judgePrompt.js';

/** The JSON body of a chat completion request, as the client sent it. */
export type ChatRequestBody = {
  model?: string;
  messages?: Array<{ role: string; content?: unknown; [field: string]: unknown }>;
  [field: string]: unknown;
};

export type ScriptedReply =
  | { content: string }
  | { toolCalls: Array<{ name: string; arguments: object | string }>; content?: string }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  | { garbage: string }
  /** A 200 whose body is not a chat completion, e.g. a proxy's HTML page (content type defaults to text/html). */
  | { rawBody: string; contentType?: string }
  /** `reply`, sent once `release` settles: a call the test holds in flight as long as it needs. */
  | { release: Promise<unknown>; reply: ScriptedReply };

export type ReplyScript = ScriptedReply | ((body: ChatRequestBody) => ScriptedReply);

export interface FakeOpenAIOptions {
  /** Defaults to 0: any free port. */
  port?: number;
  /** Delay before every chat completion response, in ms. */
  latencyMs?: number;
  /** Replaces the default reply used when the queue is empty. */
  chat?: (body: ChatRequestBody) => ScriptedReply;
  /** Replaces the default verdict of the server's judge (see defaultJudge) when the judge queue is empty. */
  judge?: (body: ChatRequestBody) => ScriptedReply;
  /** Exact-text embedding lookup, tried before the hash-derived fallback. */
  vectors?: Record<string, number[]>;
  /**
   * Length of fallback embedding vectors. Defaults to the length of the fixed `vectors` (one model,
   * one dimension), else 64: there two unrelated texts stay far apart (cosine about 0 ± 0.13),
   * where at 8 about one pair in 3,000 reached the 0.92 consolidation threshold and merged.
   */
  embeddingDimensions?: number;
  /**
   * How fallback vectors are made: `hash` (default) gives unrelated texts unrelated vectors;
   * `words` sums a vector per word, so texts that share words point the same way, as a real
   * model's vectors do (benchmarks: an HNSW insert among uniformly random vectors costs
   * several times more than among real embeddings).
   */
  embeddings?: 'hash' | 'words';
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  headers: http.IncomingHttpHeaders;
  /** When the request arrived (Date.now()), to check how long a client waited between attempts. */
  at: number;
}

export interface FakeOpenAI {
  /** e.g. `http://127.0.0.1:41234/v1`: pass as the client's `baseURL`. */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  latencyMs: number;
  /** Scripts the next chat completions, first in first out. */
  enqueue(...replies: ReplyScript[]): void;
  /**
   * Scripts the next replies to the server's judge (requests whose system prompt is the judge's),
   * first in first out; they never answer another request, nor does `enqueue` answer the judge.
   */
  enqueueJudge(...replies: ReplyScript[]): void;
  close(): Promise<void>;
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: ReplyScript[] = [];
  const judgeQueue: ReplyScript[] = [];
  const chat = options.chat ?? defaultChat;
  const judge = options.judge ?? defaultJudge;
  const dimensions = options.embeddingDimensions ?? Object.values(options.vectors ?? {})[0]?.length ?? 64;
  const fallbackVector = options.embeddings === 'words' ? wordsVector : hashVector;
  // Hung requests are only released by close(), which destroys their sockets.
  let closed = false;
  let completionCount = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, String(err), 'server_error');
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const at = Date.now();
    const raw = await readBody(req);
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        requests.push({ method: req.method ?? 'GET', path, body: raw, headers: req.headers, at });
        return sendError(res, 400, 'Request body is not valid JSON.', 'invalid_request_error');
      }
    }
    requests.push({ method: req.method ?? 'GET', path, body, headers: req.headers, at });

    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const chatBody = (body ?? {}) as ChatRequestBody;
      if (fake.latencyMs > 0) await sleep(fake.latencyMs);
      const next = isJudgeRequest(chatBody) ? (judgeQueue.shift() ?? judge) : (queue.shift() ?? chat);
      let reply = typeof next === 'function' ? next(chatBody) : next;
      while ('release' in reply) {
        const held: ScriptedReply = reply.reply;
        await reply.release;
        reply = held;
      }
      return sendChatReply(res, chatBody, reply, ++completionCount);
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      return sendEmbeddings(res, (body ?? {}) as Record<string, unknown>, options.vectors ?? {}, dimensions, fallbackVector);
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: FAKE_MODELS.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-openai' })),
      });
    }
    return sendError(res, 404, `Unknown path ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
  }

  function sendChatReply(
    res: http.ServerResponse,
    body: ChatRequestBody,
    reply: ScriptedReply,
    count: number,
  ): void {
    if ('hang' in reply || 'release' in reply) return;
    if ('rawBody' in reply) {
      res.writeHead(200, { 'content-type': reply.contentType ?? 'text/html; charset=utf-8' });
      res.end(reply.rawBody);
      return;
    }
    if ('status' in reply) {
      const errorBody = reply.body ?? {
        error: { message: `Fake error ${reply.status}`, type: 'fake_error', code: null },
      };
      return sendJson(res, reply.status, errorBody, reply.headers);
    }
    const content = 'garbage' in reply ? reply.garbage : (reply.content ?? null);
    const toolCalls =
      'toolCalls' in reply
        ? reply.toolCalls.map((call, index) => ({
            id: `call_${count}_${index}`,
            type: 'function',
            function: {
              name: call.name,
              arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
            },
          }))
        : undefined;
    const promptTokens = estimateTokens(JSON.stringify(body.messages ?? []));
    const completionTokens = estimateTokens((content ?? '') + JSON.stringify(toolCalls ?? []));
    sendJson(res, 200, {
      id: `chatcmpl-fake-${count}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'fake-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeOpenAI = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    latencyMs: options.latencyMs ?? 0,
    enqueue: (...replies) => void queue.push(...replies),
    enqueueJudge: (...replies) => void judgeQueue.push(...replies),
    close: async () => {
      if (closed) return;
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    },
  };
  return fake;
}

const FAKE_MODELS = ['fake-model', 'text-embedding-3-small'];

/** A valid reflection JSON that mentions the task, so end-to-end tests can see it stored. */
export function defaultChat(body: ChatRequestBody): ScriptedReply {
  const userText = lastUserText(body);
  const task = (blockContent(userText, 'task') ?? userText).trim().slice(0, 200) || 'unknown task';
  const failed = /\bfail/i.test(blockContent(userText, 'outcome') ?? '');
  const reflection = failed
    ? `For the task "${task}" the run failed; check the reviewer feedback before answering.`
    : `For the task "${task}" the run passed; repeat the same approach.`;
  return {
    content: JSON.stringify({
      reflection,
      summary: `${failed ? 'Failed' : 'Passed'}: ${task}`,
      key_mistake: failed ? 'The answer did not meet the reviewer expectations.' : '',
      correct_action: failed ? 'Follow the reviewer feedback.' : 'Repeat the approach that passed.',
      guidance: `When asked "${task}", apply this lesson.`,
      applicable_tools: [],
      tools_used: [],
    }),
  };
}

/** A request from the server's judge: its system prompt starts as the judge's does. */
export function isJudgeRequest(body: ChatRequestBody): boolean {
  const system = body.messages?.find((message) => message.role === 'system')?.content;
  return typeof system === 'string' && system.startsWith(JUDGE_PROMPT_START);
}

/** A reply of the judge: its verdict and reason as the fixed JSON shape. */
export function judgeVerdict(verdict: 'pass' | 'fail', reason = `The run ${verdict === 'pass' ? 'meets' : 'misses'} the rubric.`): ScriptedReply {
  return { content: JSON.stringify({ verdict, reason }) };
}

/** The judge's default: `fail` when the task mentions failing, else `pass`. */
export function defaultJudge(body: ChatRequestBody): ScriptedReply {
  return judgeVerdict(/\bfail/i.test(blockContent(lastUserText(body), 'task') ?? '') ? 'fail' : 'pass');
}

function lastUserText(body: ChatRequestBody): string {
  const user = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  const content = user?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('\n');
  }
  return '';
}

function blockContent(text: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text)?.[1];
}

function sendEmbeddings(
  res: http.ServerResponse,
  body: Record<string, unknown>,
  vectors: Record<string, number[]>,
  defaultDimensions: number,
  fallbackVector: (text: string, dimensions: number) => number[],
): void {
  const input = body.input;
  const texts = (Array.isArray(input) && input.every((item) => typeof item === 'string') ? input : [input]).map(
    (item) => (typeof item === 'string' ? item : JSON.stringify(item)),
  );
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : defaultDimensions;
  // The openai client asks for base64 unless told otherwise, and decodes float32 itself.
  const base64 = body.encoding_format === 'base64';
  const data = texts.map((text, index) => {
    // A text tagged ⟨fx …⟩ (the learning benchmark's fixtures) carries its own vector.
    const vector = vectors[text] ?? fixtureVector(text, dimensions) ?? fallbackVector(text, dimensions);
    const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = texts.reduce((sum, text) => sum + estimateTokens(text), 0);
  sendJson(res, 200, {
    object: 'list',
    data,
    model: typeof body.model === 'string' ? body.model : 'text-embedding-3-small',
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** A deterministic unit vector: same text, same vector; different texts, unrelated vectors. */
export function hashVector(text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let offset = 0; offset + 4 <= digest.length && values.length < dimensions; offset += 4) {
      values.push(digest.readUInt32BE(offset) / 0xffffffff - 0.5);
    }
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

/** A deterministic unit vector from the text's words: texts sharing words are similar. */
export function wordsVector(text: string, dimensions: number): number[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  return meanUnitVector(words.map((word) => hashVector(word, dimensions)));
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, status: number, message: string, type: string, code: string | null = null) {
  sendJson(res, status, { error: { message, type, code } });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function argValue(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

async function runStandalone(args: string[]): Promise<void> {
  const fake = await startFakeOpenAI({
    port: Number(argValue(args, '--port') ?? 0),
    latencyMs: Number(argValue(args, '--latency') ?? 0),
    embeddingDimensions: Number(argValue(args, '--dimensions') ?? 8),
    embeddings: argValue(args, '--embeddings') === 'words' ? 'words' : 'hash',
  });
  process.stdout.write(`FAKE_OPENAI_URL=${fake.baseURL}\n`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runStandalone(process.argv.slice(2));
}
