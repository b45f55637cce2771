/**
 * Reflect latency bench: `npx tsx bench/reflect.ts [-- --size 10000 --runs 20 --latency 300]`.
 *
 * One project with N synthetic memories (384-d vectors clustered around real MiniLM vectors of
 * task sentences, tagged with the local model so the real HNSW index serves them; texts from
 * templates so the full-text half has words to match) and a few mental models. The LLM is the
 * fake OpenAI-compatible server answering every chat completion after a fixed delay, scripted
 * like a model that finds the answer in its first search: search_mental_models, search_memories,
 * done. Each run posts a fresh question over HTTP (so the local embedder really runs) and
 * compares the wall time with the sum of the LLM calls the server timed (trace.llm_calls).
 * Targets: overhead = wall − Σ LLM ≤ 10 % of Σ LLM; at most 3 LLM calls per low-budget run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { LOCAL_MODEL_NAME } from '../src/embeddings/localEmbedder.js';
import { startFakeOpenAI, type ChatRequestBody, type ScriptedReply } from '../test/support/fakeOpenAI.js';
import { loadAverage, log } from './support.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '20' },
    latency: { type: 'string', default: '300' },
  },
});
const SIZE = Number(args.size);
const RUNS = Number(args.runs);
const LATENCY_MS = Number(args.latency);
const CENTRES = 200;
const BATCH = 1_000;
const TARGETS = { overheadRatio: 0.1, llmCalls: 3 };

let seed = 42;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
const gaussian = () => Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
const unit = (v: number[]) => {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
};
const aroundCentre = (centre: number[]) => unit(centre.map((x) => x + 0.035 * gaussian()));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const TEMPLATES = [
  'Count the {entity} created in {month} using the {table} table',
  'Write a migration that adds a {column} column to the {table} table',
  'Find duplicate {entity} in the {table} table and keep the newest',
  'Delete log files older than {n} days on the {service} server',
  'Handle rate limiting while crawling {site} with exponential backoff',
  'Reply to a customer asking for a refund on {product}',
  'Help a user who cannot log in to the {service} dashboard',
  'Debug a Kubernetes pod of the {service} service stuck in CrashLoopBackOff',
  'Renew the expired TLS certificate of {site}',
  'Rotate leaked API keys of the {service} service',
];
const LESSONS = [
  'Filter on the date column before aggregating; the table holds every month.',
  'Check the logs of the previous deploy before restarting anything.',
  'Ask for the order number first; refunds need it.',
  'Back off exponentially and respect Retry-After.',
  'Run the migration in a transaction and test the rollback.',
];
const SLOTS: Record<string, string[]> = {
  entity: ['orders', 'users', 'invoices', 'sessions', 'payments', 'tickets'],
  table: ['orders', 'accounts', 'invoices', 'payments', 'shipments', 'events'],
  column: ['phone', 'country', 'discount', 'status', 'timezone'],
  month: ['January', 'March', 'April', 'June', 'September'],
  n: ['3', '7', '14', '30'],
  service: ['checkout', 'search', 'auth', 'notifications', 'inventory'],
  site: ['an online bookshop', 'a news portal', 'a travel agency'],
  product: ['a damaged blender', 'late running shoes', 'a faulty router'],
};
const fill = (template: string) => template.replace(/\{(\w+)\}/g, (_, slot: string) => pick(SLOTS[slot]!));

/**
 * A model that finds the answer at once: mental models, memories, then done citing the first
 * memory. It searches with the question verbatim, or reworded (`rephrase`), which a real model
 * may do: then the question's vector, embedded during the first LLM call, is of no use.
 */
let rephrase = false;
function scriptedModel(body: ChatRequestBody): ScriptedReply {
  if (!body.tools) return { content: 'Answer from the evidence.' };
  const messages = body.messages ?? [];
  const asked = String(messages.find((m) => m.role === 'user')?.content ?? '').replace(/^Question: /, '');
  const question = rephrase ? `${asked.replace(/\?$/, '')}, step by step` : asked;
  const turn = messages.filter((m) => m.role === 'assistant').length;
  if (turn === 0) return { toolCalls: [{ name: 'search_mental_models', arguments: { query: question } }] };
  if (turn === 1) return { toolCalls: [{ name: 'search_memories', arguments: { query: question } }] };
  const last = JSON.parse(String(messages.at(-1)?.content ?? '{}')) as { memories?: { id: string }[] };
  return { toolCalls: [{ name: 'done', arguments: { answer: 'Do what the first memory says.', memory_ids: [last.memories?.[0]?.id ?? ''] } }] };
}

const fake = await startFakeOpenAI({ latencyMs: LATENCY_MS, chat: scriptedModel });
const dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-bench-'));
const config = loadConfig({
  NODE_ENV: 'production',
  LOG_LEVEL: 'silent',
  REFLECT_DATA_DIR: dataDir,
  REFLECT_RATE_LIMIT_MAX: '1000000000',
  OPENAI_API_KEY: 'bench',
  OPENAI_BASE_URL: fake.baseURL,
});
const app = await buildApp({ config, logger: false });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/default/banks/bench`;
const embedder = app.embedder;
if (embedder.model !== LOCAL_MODEL_NAME) throw new Error(`expected the local embedder, got ${embedder.model}`);
const key = (await app.auth.createMasterKey({ userId: 'bench', projectId: 'bench', label: 'bench', environment: 'live' })).api_key;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const pool = app.database.pool;
const projectId = (await pool.query<{ id: string }>(`SELECT id FROM projects WHERE slug = 'bench'`)).rows[0]!.id;

log(`# reflect bench — ${SIZE} memories, ${RUNS} runs, fake LLM latency ${LATENCY_MS} ms, node ${process.version}, load average ${loadAverage()}`);
const centreTexts = Array.from({ length: CENTRES }, () => fill(pick(TEMPLATES)));
const centres = await embedder.embed(centreTexts);
const loadStart = performance.now();
for (let start = 0; start < SIZE; start += BATCH) {
  const count = Math.min(BATCH, SIZE - start);
  const tasks: string[] = [];
  const lessons: string[] = [];
  const vectors: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = Math.floor(random() * CENTRES);
    tasks.push(`${centreTexts[c]} (run ${start + i})`);
    lessons.push(pick(LESSONS));
    vectors.push(`[${aroundCentre(centres[c]!).join(',')}]`);
  }
  await pool.query(
    `INSERT INTO memories (project_id, task, reflection, embedding, embedding_model, tags)
     SELECT $1::uuid, u.task, u.lesson, u.embedding::vector, $2, ARRAY['bench']
     FROM unnest($3::text[], $4::text[], $5::text[]) AS u(task, lesson, embedding)`,
    [projectId, embedder.model, tasks, lessons, vectors],
  );
}
await pool.query('ANALYZE memories');
for (let i = 0; i < 5; i++) {
  const res = await fetch(`${base}/mental-models`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: `Policy ${i}`, source_query: fill(pick(TEMPLATES)), content: pick(LESSONS) }),
  });
  if (!res.ok) throw new Error(`mental model: ${res.status} ${await res.text()}`);
}
log(`loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);

interface Run {
  wall: number;
  llm: number;
  llmCalls: number;
  tools: number;
  byTool: Record<string, number>;
  embed: number;
}

// Time spent in the embedder (cache included) during each run, from the service's own embedder.
let embedTime = 0;
const innerEmbed = embedder.embed.bind(embedder);
embedder.embed = async (texts) => {
  const started = performance.now();
  try {
    return await innerEmbed(texts);
  } finally {
    embedTime += performance.now() - started;
  }
};
async function reflectOnce(): Promise<Run> {
  embedTime = 0;
  const started = performance.now();
  const res = await fetch(`${base}/reflect`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: `How should I ${fill(pick(TEMPLATES)).toLowerCase()}?`, budget: 'low', include: { tool_calls: { output: false } } }),
  });
  const body = (await res.json()) as { trace: { llm_calls: { duration_ms: number }[]; tool_calls: { tool: string; duration_ms: number }[] } };
  const wall = performance.now() - started;
  if (!res.ok) throw new Error(`reflect: ${res.status} ${JSON.stringify(body)}`);
  const sum = (xs: { duration_ms: number }[]) => xs.reduce((s, x) => s + x.duration_ms, 0);
  const byTool: Record<string, number> = {};
  for (const call of body.trace.tool_calls) byTool[call.tool] = (byTool[call.tool] ?? 0) + call.duration_ms;
  return { wall, llm: sum(body.trace.llm_calls), llmCalls: body.trace.llm_calls.length, tools: sum(body.trace.tool_calls), byTool, embed: embedTime };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const row = (label: string, xs: number[], format: (x: number) => string) =>
  log(`| ${label} | ${format(percentile(xs, 0.5))} | ${format(percentile(xs, 0.9))} | ${format(Math.max(...xs))} |`);

function report(title: string, runs: Run[]): boolean {
  const ratios = runs.map((r) => (r.wall - r.llm) / r.llm);
  const llmCalls = runs.map((r) => r.llmCalls);
  log(`\n## ${title}\n`);
  log('| per low-budget reflect | p50 | p90 | max |');
  log('|---|---|---|---|');
  row('wall time (HTTP, client side)', runs.map((r) => r.wall), ms);
  row('sum of its LLM calls (server timed)', runs.map((r) => r.llm), ms);
  row('overhead = wall − LLM', runs.map((r) => r.wall - r.llm), ms);
  row('of which tool calls (embedding + SQL)', runs.map((r) => r.tools), ms);
  for (const tool of ['search_mental_models', 'search_memories']) row(`— ${tool}`, runs.map((r) => r.byTool[tool] ?? 0), ms);
  row('embedder busy (incl. the question, embedded during the first LLM call)', runs.map((r) => r.embed), ms);
  row('overhead ÷ LLM', ratios, pct);
  row('LLM calls', llmCalls, String);
  const ratioOk = percentile(ratios, 0.5) <= TARGETS.overheadRatio;
  const callsOk = Math.max(...llmCalls) <= TARGETS.llmCalls;
  log(`\ntarget overhead ≤ ${pct(TARGETS.overheadRatio)} of the LLM time (p50): ${ratioOk ? 'met' : 'NOT met'}; LLM calls ≤ ${TARGETS.llmCalls}: ${callsOk ? 'met' : 'NOT met'}`);
  return ratioOk && callsOk;
}

for (let i = 0; i < 3; i++) await reflectOnce(); // warm-up: JIT, embedder worker, plans
const verbatim: Run[] = [];
for (let i = 0; i < RUNS; i++) verbatim.push(await reflectOnce());
rephrase = true;
const reworded: Run[] = [];
for (let i = 0; i < RUNS; i++) reworded.push(await reflectOnce());
const verbatimOk = report('the model searches with the question as asked', verbatim);
report('the model rewords the question (its embedding is on the critical path)', reworded);
log(`load average at the end: ${loadAverage()} on ${cpus().length} CPUs (other processes skew every figure)`);

await app.close();
await fake.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(verbatimOk ? 0 : 1);
