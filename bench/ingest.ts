/**
 * Ingest benchmark: `npm run bench:ingest [-- --requests 3000 --rounds 3 --only accept|process --quick]`.
 *
 * (a) Traces accepted per second: POST /v1/traces against a listening server on 127.0.0.1 at
 *     concurrency 32, without and with an inline review, the worker running (default config:
 *     local embedder, worker concurrency 8, the fake LLM at 200 ms). Each mode runs `--rounds`
 *     times and the median round is reported with the range, as this machine's speed varies.
 * (b) Reviews processed per second: traces with a review stored first (bulk insert, state queued),
 *     then all enqueued at once; timed from the first enqueue until no trace is pending (so HTTP
 *     acceptance, measured in (a), does not limit it), with the fake LLM at 200 ms and
 *     REFLECT_EMBEDDING_PROVIDER=openai against the same fake server (the LLM should be the only
 *     bottleneck; its vectors are bag-of-words, so texts that share words are near each other as
 *     with a real model: HNSW inserts among uniformly random vectors cost several times more),
 *     at worker concurrency N = 8, 16 and 32; then once with the local embedder.
 *     Ideal = N / 0.2 s; target processed/s ÷ ideal ≥ 0.9. Each run also profiles where a job's
 *     time goes (LLM call, embedding, database work alone) and the main thread's load.
 * The fake OpenAI server runs as a child process, so its work is not on the server's event loop.
 * Every run uses a fresh file-backed data directory, as a real install does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { storeMemoryAndApplyReview } from '../src/db/learning.js';
import { memories, traces as tracesTable } from '../src/db/schema.js';
import { claimTraceAttempt, insertTrace } from '../src/db/traces.js';
import { cpuUsed, fmt, httpLoad, lagStats, loadAverage, log, ms, progress, serverEnv, sleep, stats, threadCpu, timeCalls, type Stats } from './support.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    /** Smaller runs, for checking the bench itself. */
    quick: { type: 'boolean', default: false },
    /** `accept` or `process`: run one half only. */
    only: { type: 'string' },
    /** Accept runs per mode; the median is reported (this machine's speed varies from run to run). */
    rounds: { type: 'string', default: '3' },
  },
});
const REQUESTS = args.quick ? 500 : Number(args.requests);
const LLM_LATENCY_MS = 200;
const ACCEPT_CONCURRENCY = 32;
const TARGETS = { acceptedPerSecond: 500, processedRatio: 0.9 };
const PROCESS_RUNS = [
  { provider: 'openai', concurrency: 8, traces: args.quick ? 160 : 600 },
  { provider: 'openai', concurrency: 16, traces: args.quick ? 320 : 1200 },
  { provider: 'openai', concurrency: 32, traces: args.quick ? 640 : 2400 },
  { provider: 'local', concurrency: 32, traces: args.quick ? 200 : 800 },
] as const;

// ---------------------------------------------------------------------------------------------
// Helpers

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const TABLES = ['orders', 'invoices', 'payments', 'shipments', 'subscriptions', 'refunds'];

/** A realistic SQL-agent run: tool call, tool result, answer (~1.5 KB of JSON). Unique task per i. */
function traceBody(i: number, review: boolean): Record<string, unknown> {
  const month = MONTHS[i % 12]!;
  const table = TABLES[i % TABLES.length]!;
  const query = `SELECT count(*) FROM ${table} WHERE created_at >= '2026-${String((i % 12) + 1).padStart(2, '0')}-01' AND store_id = ${i}`;
  return {
    task: `Count the ${table} created in ${month} for store ${i}`,
    trajectory: [
      { role: 'system', content: 'You are a careful data analyst. Use the run_sql tool; answer with a number and one sentence.' },
      { role: 'user', content: `How many ${table} were created in ${month} for store ${i}? The table has rows for every month and every store.` },
      { role: 'assistant', content: '', tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'run_sql', arguments: JSON.stringify({ query }) } }] },
      { role: 'tool', tool_call_id: `call_${i}`, content: `count\n-----\n${1000 + (i % 977)}\n(1 row)` },
      { role: 'assistant', content: `There were ${1000 + (i % 977)} ${table} created in ${month} for store ${i}.` },
    ],
    model: 'gpt-4o-mini',
    metadata: { tags: ['sql', table], store: i },
    ...(review
      ? {
          review_result: i % 4 === 0 ? 'fail' : 'pass',
          feedback_text: i % 4 === 0 ? 'The query ignored the end of the month; add an upper bound on created_at.' : 'Correct count.',
        }
      : {}),
  };
}

/** The fake OpenAI server in its own process; resolves with its base URL. */
async function startFakeLlm(): Promise<{ url: string; child: ChildProcess }> {
  const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
  const script = fileURLToPath(new URL('../test/support/fakeOpenAI.ts', import.meta.url));
  const child = spawn(process.execPath, [tsxCli, script, '--port', '0', '--latency', String(LLM_LATENCY_MS), '--dimensions', '384', '--embeddings', 'words'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /FAKE_OPENAI_URL=(\S+)/.exec(buffered);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`fake OpenAI server exited with code ${code}`)));
    setTimeout(() => reject(new Error('fake OpenAI server did not start within 30 s')), 30_000).unref();
  });
  return { url, child };
}

interface Server {
  app: FastifyInstance;
  url: string;
  key: string;
  dataDir: string;
  close(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-ingest-'));
  const config = loadConfig(serverEnv(dataDir, env));
  const app = await buildApp({ config, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const key = (await app.auth.createMasterKey({ userId: 'bench', projectId: 'bench', label: 'bench', environment: 'live' })).api_key;
  return {
    app,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/traces`,
    key,
    dataDir,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function countByStatus(app: FastifyInstance): Promise<{ completed: number; failed: number; queued: number }> {
  const { rows } = await app.database.pool.query<{ completed: number; failed: number; queued: number }>(
    `SELECT count(*) FILTER (WHERE ingest_status = 'completed' AND review_status = 'reviewed')::int AS completed,
            count(*) FILTER (WHERE ingest_status = 'failed')::int AS failed,
            count(*) FILTER (WHERE ingest_status IN ('queued', 'processing'))::int AS queued
     FROM traces`,
  );
  return rows[0]!;
}

async function pendingCount(app: FastifyInstance): Promise<number> {
  const { rows } = await app.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM traces WHERE ingest_status IN ('queued', 'processing')`);
  return rows[0]!.n;
}

interface DbProfile {
  claim: Stats;
  store: Stats;
  perJob: Stats;
  insertIndexed: Stats;
  insertUnindexed: Stats;
}

/**
 * The database part of one job, alone and in sequence: claim, then the store statement; and a
 * bare memory INSERT with and without HNSW maintenance (a model no partial index covers).
 */
async function profileJobDb(app: FastifyInstance, jobs: number): Promise<DbProfile> {
  const db = app.database.db;
  const { rows } = await app.database.pool.query<{ id: string }>(`SELECT id FROM projects WHERE slug = 'bench'`);
  const projectId = rows[0]!.id;
  const claim: number[] = [];
  const store: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const body = traceBody(1_000_000 + i, true);
    const trace = await insertTrace(db, {
      projectId,
      task: body.task as string,
      trajectory: body.trajectory as Record<string, unknown>[],
      finalResponse: 'done',
      ingestStatus: 'queued',
      reviewResult: 'pass',
      reviewAlpha: 0.3,
      reviewedAt: new Date(),
    });
    let t = performance.now();
    await claimTraceAttempt(db, trace.id, 0);
    claim.push(performance.now() - t);
    const [embedding] = await app.embedder.embed([body.task as string]);
    t = performance.now();
    await storeMemoryAndApplyReview(db, {
      traceId: trace.id,
      round: 0,
      retrievedMemoryIds: [],
      reward: 1,
      alpha: 0.3,
      memory: {
        task: body.task as string,
        reflection: 'Profiled reflection.',
        success: true,
        summary: 'Profiled summary.',
        keyMistake: '',
        correctAction: 'Bound created_at on both sides.',
        guidance: 'Bound date ranges on both sides.',
        applicableTools: ['run_sql'],
        toolsUsed: ['run_sql'],
        metadata: body.metadata as Record<string, unknown>,
        tags: ['sql'],
        reflectionSource: 'llm',
        embedding: embedding!,
        embeddingModel: app.embedder.model,
      },
    });
    store.push(performance.now() - t);
  }
  const insert = async (model: string) => {
    const times: number[] = [];
    for (let i = 0; i < jobs; i++) {
      const task = `insert probe: ${traceBody(2_000_000 + i, false).task as string}`;
      const [embedding] = await app.embedder.embed([task]);
      const t = performance.now();
      await db.insert(memories).values({ projectId, task, reflection: 'r', embedding: embedding!, embeddingModel: model });
      times.push(performance.now() - t);
    }
    return stats(times);
  };
  const insertIndexed = await insert(app.embedder.model);
  const insertUnindexed = await insert('bench:unindexed');
  return { claim: stats(claim), store: stats(store), perJob: stats(claim.map((c, i) => c + store[i]!)), insertIndexed, insertUnindexed };
}

// ---------------------------------------------------------------------------------------------
// (a) accepted per second

interface AcceptResult {
  name: string;
  perSecond: number;
  /** Slowest and fastest round. */
  range: [number, number];
  latency: Stats;
  processedMeanwhile: number;
  elu: number;
  cpuMain: number;
  cpuOthers: number;
}

/** Each mode `rounds` times on one server; the median round stands for the mode. */
async function acceptRun(fakeUrl: string, rounds: number): Promise<AcceptResult[]> {
  const server = await startServer({ OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: fakeUrl });
  const out: AcceptResult[] = [];
  try {
    let offset = 0;
    for (const review of [false, true]) {
      const results: Omit<AcceptResult, 'range'>[] = [];
      for (let round = 0; round < rounds; round++) {
        progress(`(a) ${review ? 'with' : 'without'} review, round ${round + 1} of ${rounds}`);
        const warmup = Array.from({ length: 100 }, (_, i) => JSON.stringify(traceBody(offset + i, false)));
        offset += 100;
        const bodies = Array.from({ length: REQUESTS }, (_, i) => JSON.stringify(traceBody(offset + i, review)));
        offset += REQUESTS;
        const before = (await countByStatus(server.app)).completed;
        const elu0 = performance.eventLoopUtilization();
        const cpu0 = threadCpu();
        const result = await httpLoad(server.url, server.key, warmup, bodies, ACCEPT_CONCURRENCY, 202);
        const elu = performance.eventLoopUtilization(elu0).utilization;
        const cpu = cpuUsed(cpu0, threadCpu(), result.tid === undefined ? [] : [result.tid]);
        if (result.errors) throw new Error(`HTTP errors (${result.errors}): ${result.firstError}`);
        const after = await countByStatus(server.app);
        results.push({
          name: review ? 'with inline review (queued; worker running)' : 'without review (completed at once)',
          perSecond: (REQUESTS / result.wallMs) * 1000,
          latency: stats(result.latencies),
          // Reviewed traces the worker finished while the load ran (no-review traces are excluded by review_status).
          processedMeanwhile: review ? after.completed - before : 0,
          elu,
          // Per request, warm-up included (it ran inside the same window).
          cpuMain: cpu.main / (REQUESTS + warmup.length),
          cpuOthers: cpu.others / (REQUESTS + warmup.length),
        });
      }
      const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
      out.push({ ...sorted[Math.floor(sorted.length / 2)]!, range: [sorted[0]!.perSecond, sorted.at(-1)!.perSecond] });
    }
  } finally {
    progress('closing (running jobs finish, queued ones are dropped)');
    await server.close();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (b) processed per second

interface ProcessResult {
  provider: string;
  concurrency: number;
  traces: number;
  seconds: number;
  perSecond: number;
  ideal: number;
  ratio: number;
  mainThreadMsPerJob: number;
  cpuMainPerJob: number;
  cpuOthersPerJob: number;
  llm: Stats;
  embed: Stats;
  elu: number;
  lag: Stats;
  llmRequests: number;
  /** Mean wall time of one job, claim to stored (the metrics' job histogram). */
  jobMs: number;
  db: DbProfile;
}

async function meanJobMs(app: FastifyInstance): Promise<number> {
  const metric = await app.metrics.registry.getSingleMetric('reflect_job_duration_seconds')!.get();
  const total = (suffix: string) => (metric.values as { metricName?: string; value: number }[]).filter((v) => v.metricName?.endsWith(suffix)).reduce((sum, v) => sum + v.value, 0);
  return (total('_sum') / total('_count')) * 1000;
}

async function processRun(fakeUrl: string, provider: 'openai' | 'local', concurrency: number, traces: number): Promise<ProcessResult> {
  const server = await startServer({
    OPENAI_API_KEY: 'bench',
    OPENAI_BASE_URL: fakeUrl,
    REFLECT_EMBEDDING_PROVIDER: provider,
    REFLECT_WORKER_CONCURRENCY: String(concurrency),
    // The traces below are stored as queued before they are enqueued: keep the sweeper out of it.
    REFLECT_SWEEP_INTERVAL_MS: '600000',
  });
  try {
    const { app } = server;
    let firstEnqueue: number | undefined;
    const enqueue = app.queue.enqueue.bind(app.queue);
    app.queue.enqueue = async (job) => {
      firstEnqueue ??= performance.now();
      return enqueue(job);
    };
    const llmTimes: number[] = [];
    const embedTimes: number[] = [];
    timeCalls(app.reflector, 'reflect', llmTimes);
    timeCalls(app.embedder, 'embed', embedTimes);

    // Earlier runs' traces count too when DATABASE_URL points every run at one database.
    const baseline = await countByStatus(app);
    // Traces with their review, as POST /v1/traces stores them, but all before the first enqueue.
    const { rows } = await app.database.pool.query<{ id: string }>(`SELECT id FROM projects WHERE slug = 'bench'`);
    const projectId = rows[0]!.id;
    const ids: string[] = [];
    for (let start = 0; start < traces; start += 250) {
      const chunk = Array.from({ length: Math.min(250, traces - start) }, (_, k) => {
        const body = traceBody(start + k, true);
        const trajectory = body.trajectory as Record<string, unknown>[];
        return {
          projectId,
          task: body.task as string,
          trajectory,
          finalResponse: String(trajectory.at(-1)!.content),
          model: body.model as string,
          metadata: body.metadata as Record<string, unknown>,
          ingestStatus: 'queued',
          reviewResult: body.review_result as string,
          reviewFeedback: body.feedback_text as string,
          reviewAlpha: 0.3,
          reviewedAt: new Date(),
        };
      });
      ids.push(...(await app.database.db.insert(tracesTable).values(chunk).returning({ id: tracesTable.id })).map((r) => r.id));
    }
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = threadCpu();
    for (const id of ids) await app.queue.enqueue({ traceId: id, round: 0 });
    const deadline = performance.now() + 10 * 60_000;
    // Polled through the pending-work index: a full count every 50 ms would take database time from the jobs.
    while ((await pendingCount(app)) > baseline.queued) {
      if (performance.now() > deadline) throw new Error(`not all of ${traces} traces were processed in 10 minutes`);
      await sleep(50);
    }
    const done = performance.now();
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const cpu = cpuUsed(cpu0, threadCpu());
    lag.disable();
    const counts = await countByStatus(app);
    if (counts.failed > baseline.failed) throw new Error(`${counts.failed - baseline.failed} traces failed`);
    if (counts.completed - baseline.completed < traces) throw new Error(`only ${counts.completed - baseline.completed} of ${traces} completed`);
    const seconds = (done - firstEnqueue!) / 1000;
    const perSecond = traces / seconds;
    const ideal = concurrency / (LLM_LATENCY_MS / 1000);
    progress('profiling the database part of a job');
    const db = await profileJobDb(app, 100);
    return {
      provider: app.embedder.model,
      concurrency,
      traces,
      seconds,
      perSecond,
      ideal,
      ratio: perSecond / ideal,
      mainThreadMsPerJob: (elu * seconds * 1000) / traces,
      cpuMainPerJob: cpu.main / traces,
      cpuOthersPerJob: cpu.others / traces,
      llm: stats(llmTimes),
      embed: stats(embedTimes),
      elu,
      lag: lagStats(lag),
      llmRequests: llmTimes.length,
      jobMs: await meanJobMs(app),
      db,
    };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Main

log(`# reflect-server ingest bench — ${REQUESTS} requests per accept run, fake LLM latency ${LLM_LATENCY_MS} ms`);
log(`node ${process.version}, ${cpus().length} CPUs, load average at start ${loadAverage()} (other processes on this machine skew every figure)`);
const fake = await startFakeLlm();
log(`fake OpenAI server (child process): ${fake.url}`);
try {
  if (args.only !== 'process') await reportAccepted(fake.url);
  if (args.only !== 'accept') await reportProcessed(fake.url);
  log();
  log(`load average at end: ${loadAverage()}`);
} finally {
  fake.child.kill('SIGTERM');
}

async function reportAccepted(fakeUrl: string): Promise<void> {
  const rounds = Number(args.rounds);
  const accepted = await acceptRun(fakeUrl, rounds);
  log();
  log(
    `## (a) POST /v1/traces accepted per second (concurrency ${ACCEPT_CONCURRENCY}, ${REQUESTS} requests a round, median of ${rounds} rounds, local embedder, worker concurrency 8, fake LLM)`,
  );
  log();
  log('| run | accepted/s (median) | slowest – fastest round | latency p50 / p95 / p99 | main-thread busy (ELU) | CPU per request: main thread / other threads | reviews processed meanwhile | target ≥ 500/s |');
  log('|---|---|---|---|---|---|---|---|');
  for (const a of accepted) {
    log(
      `| ${a.name} | ${a.perSecond.toFixed(0)} | ${a.range.map((r) => r.toFixed(0)).join(' – ')} | ${fmt(a.latency)} | ${(a.elu * 100).toFixed(0)}% | ${ms(a.cpuMain)} / ${ms(a.cpuOthers)} ms | ${a.processedMeanwhile} | ${a.perSecond >= TARGETS.acceptedPerSecond ? 'PASS' : 'MISS'} |`,
    );
  }
  log();
  log('ELU counts wall time the loop was busy, including time the OS gave the CPU to other processes; thread CPU time does not.');
  log(`Main-thread ceiling on an unloaded core ≈ 1000 ÷ main-thread CPU ms: ${accepted.map((a) => `${(1000 / a.cpuMain).toFixed(0)}/s`).join(' and ')}.`);
}

async function reportProcessed(fakeUrl: string): Promise<void> {
  const processed: ProcessResult[] = [];
  for (const run of PROCESS_RUNS) {
    progress(`(b) ${run.traces} reviews, embedder ${run.provider}, worker concurrency ${run.concurrency}`);
    processed.push(await processRun(fakeUrl, run.provider, run.concurrency, run.traces));
  }
  log();
  log(`## (b) reviews processed per second (fake LLM ${LLM_LATENCY_MS} ms; traces stored as queued, then all enqueued; first enqueue → all completed)`);
  log();
  log('| embedder | N | traces | seconds | processed/s | ideal N/0.2 s | ratio | target ≥ 0.9 |');
  log('|---|---|---|---|---|---|---|---|');
  for (const p of processed) {
    log(`| ${p.provider} | ${p.concurrency} | ${p.traces} | ${p.seconds.toFixed(1)} | ${p.perSecond.toFixed(1)} | ${p.ideal.toFixed(0)} | ${p.ratio.toFixed(2)} | ${p.ratio >= TARGETS.processedRatio ? 'PASS' : 'MISS'} |`);
  }
  log();
  log('Profile of the same runs (times measured inside the server process):');
  log();
  log('| embedder | N | job, mean | LLM call (reflect) | embed call | main thread busy (ELU) | busy ms per job | CPU per job: main / other threads ⇒ main-thread ceiling | event-loop lag p99 / max |');
  log('|---|---|---|---|---|---|---|---|---|');
  for (const p of processed) {
    log(
      `| ${p.provider} | ${p.concurrency} | ${ms(p.jobMs)} ms | ${fmt(p.llm)} | ${fmt(p.embed)} | ${(p.elu * 100).toFixed(0)}% | ${ms(p.mainThreadMsPerJob)} ms | ${ms(p.cpuMainPerJob)} / ${ms(p.cpuOthersPerJob)} ms ⇒ ${(1000 / p.cpuMainPerJob).toFixed(0)} jobs/s | ${ms(p.lag.p99)} / ${ms(p.lag.max)} ms |`,
    );
  }
  log();
  log('Database work of one job alone (sequential, after the run, on the same data; p50):');
  log();
  log('| embedder | claim | store statement | claim + store ⇒ DB-only ceiling | memory INSERT with HNSW | same INSERT, no HNSW index | HNSW share |');
  log('|---|---|---|---|---|---|---|');
  for (const p of processed) {
    const d = p.db;
    log(
      `| ${p.provider} (after ${p.traces} memories) | ${ms(d.claim.p50)} ms | ${ms(d.store.p50)} ms | ${ms(d.perJob.p50)} ms ⇒ ${(1000 / d.perJob.p50).toFixed(0)} jobs/s | ${ms(d.insertIndexed.p50)} ms | ${ms(d.insertUnindexed.p50)} ms | ${ms(d.insertIndexed.p50 - d.insertUnindexed.p50)} ms |`,
    );
  }
}
