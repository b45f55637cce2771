/**
 * Query benchmark: `npm run bench:query [-- --sizes 10000,100000 --layouts 1,10 --variants 16:64,16:128 --ef 40,100,200,400]`.
 *
 * For each size and layout (1 = one project holds every memory; 10 = ten projects, the query
 * filtered to one holding a tenth, the others of several sizes), a dataset of synthetic memories
 * (384-d vectors clustered around real MiniLM vectors of agent-task sentences) is loaded into the
 * bench's own user and projects, then:
 * - trade-off table: for each HNSW variant (m, ef_construction) built over the bench's own copy of
 *   the vectors, and each hnsw.ef_search, recall@10 and recall@50 of the top 50 against an exact
 *   scan for MiniLM vectors of query texts, KNN p50/p99, build time and index size;
 * - the app as shipped: nearestMemories' own recall, the raw SQL of nearestMemories (captured from
 *   the code and replayed through the pool: the reference), and HTTP POST /v1/memories/query at
 *   c1 (warm cache and fresh texts, minus each request's own embedding) and c16;
 * - layout 10: the exact-search cross-over, index vs exact scan per project size.
 * Every figure is printed beside a reference measured in the same run.
 *
 * Safe on a database that holds other data (DATABASE_URL): it creates its own user `bench-<run>`,
 * builds and drops only indexes named `bench_<run>_…` over rows of its own model name, and
 * deletes its user (projects and memories cascade) at the end. Without DATABASE_URL each dataset
 * lives in its own embedded data dir keyed by size, layout and seed, kept for the next run
 * (`--fresh` rebuilds it).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { buildApp } from '../src/app.js';
import { createAuthService } from '../src/auth/service.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { projects, type ProjectRow } from '../src/db/schema.js';
import { ensureVectorIndex, indexName, nearestMemories, type SearchStrategy } from '../src/db/vectorSearch.js';
import { SESSION_EF_SEARCH } from '../src/db/vectorSearchSettings.js';
import { createEmbedder } from '../src/embeddings/index.js';
import { LOCAL_MODEL_NAME } from '../src/embeddings/localEmbedder.js';
import { buildSweepIndex, ensureSweepCopy, removeDataset, variantCondition, seedDataset, sweepIndexName, Texts, DIMENSIONS, type BenchDataset, type DatasetSpec } from './queryDataset.js';
import { exactTopK, indexedTopK, POOL, recallAt, type SweepRow } from './querySweep.js';
import { httpLoad, loadAverage, log, ms, progress, serverEnv, stats, timeCalls, type Stats } from './support.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    layouts: { type: 'string', default: '1,10' },
    /** HNSW variants of the sweep: `app` (the app's own index) or m:ef_construction (built over a copy). */
    variants: { type: 'string', default: 'app,16:128' },
    ef: { type: 'string', default: '40,100,200,400' },
    requests: { type: 'string', default: '200' },
    'recall-queries': { type: 'string', default: '100' },
    seed: { type: 'string', default: '42' },
    /** Root of the embedded datasets (one data dir per size, layout and seed). */
    'data-root': { type: 'string', default: path.join(tmpdir(), 'reflect-bench-query') },
    fresh: { type: 'boolean', default: false },
    /** Server mode: leave the bench's rows in place. */
    keep: { type: 'boolean', default: false },
    'skip-http': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run bench:query -- [--sizes 10000,100000,1000000] [--layouts 1,10] [--variants 16:64,16:128] [--ef 40,100,200,400]\n' +
      '  [--requests 200] [--recall-queries 100] [--seed 42] [--data-root DIR] [--fresh] [--keep] [--skip-http]\n' +
      'DATABASE_URL=… runs against a server PostgreSQL (the bench touches only its own user, projects and indexes).\n',
  );
  process.exit(0);
}
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const SIZES = list(args.sizes!).map(Number).sort((a, b) => a - b);
const LAYOUTS = list(args.layouts!).map(Number);
const VARIANTS = list(args.variants!);
const EFS = list(args.ef!).map(Number);
const REQUESTS = Number(args.requests);
const RECALL_QUERIES = Number(args['recall-queries']);
const SEED = Number(args.seed);
const SERVER = Boolean(process.env.DATABASE_URL);
const QUERY_BODY = { limit: 10 }; // SDK defaults otherwise: lambda_ 0.5, mmr_lambda 0.7 → a pool of 50
const TARGETS = { recall10: 0.98, recall50: 0.95, ratio: 1.5 };

const config = loadConfig(serverEnv(path.join(args['data-root']!, 'unused')));
const embedder = await createEmbedder(config.embedding);
if (embedder.model !== LOCAL_MODEL_NAME) throw new Error(`expected the local embedder, got ${embedder.model}`);
const embedTimes: number[] = [];
timeCalls(embedder, 'embed', embedTimes);
const texts = new Texts(SEED + 1);

log(`# reflect-server query bench — sizes ${SIZES.join(', ')}, layouts ${LAYOUTS.join(', ')} project(s), seed ${SEED}`);
log(`${SERVER ? 'DATABASE_URL (server PostgreSQL)' : `embedded engine, datasets under ${args['data-root']}`}; node ${process.version}; ${availableParallelism()} CPUs; load average ${loadAverage()}`);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

async function each<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<Stats> {
  const out: number[] = [];
  for (const item of items) out.push((await timed(() => fn(item)))[1]);
  return stats(out);
}

interface Meta {
  dataset: BenchDataset;
  dataDir?: string;
  appIndexMs: number | null;
  variants: Record<string, { buildMs: number; bytes: number }>;
}

/** Opens (or seeds) the dataset of one size and layout. */
async function openDataset(spec: DatasetSpec): Promise<{ database: Database; meta: Meta; save: () => void; dataDir?: string }> {
  const dataDir = SERVER ? undefined : path.join(args['data-root']!, `${spec.size}x${spec.projects}-seed${spec.seed}`);
  const metaFile = dataDir && path.join(dataDir, 'bench-dataset.json');
  if (dataDir && args.fresh) rmSync(dataDir, { recursive: true, force: true });
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: dataDir ?? 'unused' });
  await runMigrations(database.pool);
  let meta: Meta | undefined;
  if (metaFile && existsSync(metaFile)) {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;
    const { rows } = await database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM memories WHERE project_id = ANY($1::uuid[]) AND embedding_model = $2`, [
      meta.dataset.projects.map((p) => p.id),
      embedder.model,
    ]);
    if (rows[0]!.n !== spec.size) meta = undefined; // an interrupted load: start again
    else progress(`reusing the dataset in ${dataDir} (loaded in ${(meta.dataset.loadMs / 1000).toFixed(0)} s)`);
  }
  if (meta && !(await appIndexExists(database, indexName(embedder.model)))) {
    // The app's index definition changed since the dataset was built: the app rebuilds it (timed here).
    progress('rebuilding the app index (ensureVectorIndex)');
    meta.appIndexMs = (await timed(() => ensureVectorIndex(database.pool, embedder.model, DIMENSIONS)))[1];
  }
  if (!meta) {
    if (dataDir) {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
      return openDatasetFresh(spec, dataDir, metaFile!);
    }
    meta = await seed(database, spec);
  }
  const saved = meta;
  return { database, meta, dataDir, save: () => metaFile && writeFileSync(metaFile, JSON.stringify(saved)) };
}

async function openDatasetFresh(spec: DatasetSpec, dataDir: string, metaFile: string) {
  mkdirSync(dataDir, { recursive: true });
  const database = await openDatabase({ dataDir });
  await runMigrations(database.pool);
  const meta = await seed(database, spec);
  writeFileSync(metaFile, JSON.stringify(meta));
  return { database, meta, dataDir, save: () => writeFileSync(metaFile, JSON.stringify(meta)) };
}

async function seed(database: Database, spec: DatasetSpec): Promise<Meta> {
  progress(`seeding ${spec.size} memories over ${spec.projects} project(s)`);
  const auth = createAuthService(database.db);
  const dataset = await seedDataset({ pool: database.pool, embedder, createMasterKey: (input) => auth.createMasterKey(input) }, spec, { onProgress: progress });
  // The app's own index, built by the app's own function after the bulk load (as a restart would).
  const existed = await appIndexExists(database);
  progress('building the app index (ensureVectorIndex)');
  const [, appIndexMs] = await timed(() => ensureVectorIndex(database.pool, embedder.model, DIMENSIONS));
  return { dataset, appIndexMs: existed ? null : appIndexMs, variants: {} };
}

async function appIndexExists(database: Database, name?: string): Promise<boolean> {
  const { rows } = name
    ? await database.pool.query(`SELECT 1 FROM pg_indexes WHERE tablename = 'memories' AND indexname = $1`, [name])
    : await database.pool.query(`SELECT 1 FROM pg_indexes WHERE tablename = 'memories' AND indexname LIKE 'memories\\_embedding\\_hnsw\\_%'`);
  return rows.length > 0;
}

/** The exact top-50 of the query project for the recall queries, kept in the dataset dir (an exact scan of 100k rows takes a while). */
async function exactTruth(database: Database, meta: Meta, queryVectors: number[][]): Promise<{ ids: string[][]; time: Stats }> {
  const file = meta.dataDir && path.join(meta.dataDir, `bench-truth-q${queryVectors.length}.json`);
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { ids: string[][]; time: Stats };
  progress('exact top-50 of the query project');
  const truth = await exactTopK(database.pool, meta.dataset.queryProjectId, embedder.model, queryVectors);
  if (file) writeFileSync(file, JSON.stringify(truth));
  return truth;
}

async function sweep(database: Database, meta: Meta, queryVectors: number[][], onVariantDone: () => void): Promise<{ rows: SweepRow[]; exact: Stats }> {
  const { dataset } = meta;
  const pool = database.pool;
  const truth = await exactTruth(database, meta, queryVectors);
  let copied = false;
  // The reference of this run: an exact scan, timed on a few queries (the truth itself may be from an earlier run).
  const exactNow = (await exactTopK(pool, dataset.queryProjectId, embedder.model, queryVectors.slice(0, 10))).time;
  const rows: SweepRow[] = [{ index: 'none (exact scan)', efSearch: null, maxScanTuples: null, recall10: 1, recall50: 1, time: exactNow, short: 0 }];
  for (const variant of VARIANTS) {
    let label: string;
    let target: { model: string; condition?: string; index: string; truth: string[][]; copy?: boolean };
    let built: { buildMs: number | null; bytes: number };
    if (variant === 'app') {
      // The app's own index over the memories themselves (built by ensureVectorIndex).
      const { rows: found } = await pool.query<{ name: string; bytes: string; def: string }>(
        `SELECT indexname AS name, pg_relation_size(indexname::regclass) AS bytes, indexdef AS def FROM pg_indexes
         WHERE tablename = 'memories' AND indexname LIKE 'memories\\_embedding\\_hnsw\\_%' AND indexdef LIKE $1`,
        [`%${embedder.model}%`],
      );
      const app = found[0]!;
      label = `app index (${/WITH \(([^)]*)\)/.exec(app.def)?.[1] ?? 'm=16, ef_construction=64 (defaults)'})`;
      target = { model: embedder.model, index: app.name, truth: truth.ids };
      built = { buildMs: meta.appIndexMs, bytes: Number(app.bytes) };
    } else {
      const [m, efc] = variant.split(':').map(Number) as [number, number];
      if (!copied) {
        progress('copying the vectors for the index variants');
        await ensureSweepCopy(pool, dataset, embedder.model);
        copied = true;
      }
      const name = sweepIndexName(dataset, m, efc);
      if (!meta.variants[name]) {
        progress(`building HNSW m=${m} ef_construction=${efc}`);
        const b = await buildSweepIndex(pool, dataset, m, efc);
        meta.variants[name] = { buildMs: b.buildMs, bytes: b.bytes };
        onVariantDone();
      }
      label = `m=${m}, ef_construction=${efc}`;
      target = { model: dataset.sweepModel, condition: variantCondition(m, efc), index: name, truth: truth.ids, copy: true };
      built = meta.variants[name]!;
    }
    for (const ef of EFS) {
      progress(`${label} ef_search=${ef}`);
      const got = await indexedTopK(
        pool,
        dataset.queryProjectId,
        target.model,
        queryVectors,
        // The sweep measures the index: at small sizes the planner would rather sort the rows.
        { 'hnsw.ef_search': ef, 'hnsw.iterative_scan': 'relaxed_order', enable_seqscan: 'off', enable_sort: 'off' },
        { condition: target.condition, index: target.index, copy: target.copy },
      );
      rows.push({
        index: label,
        buildMs: built.buildMs ?? undefined,
        bytes: built.bytes,
        efSearch: ef,
        maxScanTuples: null,
        recall10: recallAt(target.truth, got.ids, 10),
        recall50: recallAt(target.truth, got.ids, 50),
        time: got.time,
        short: got.short,
      });
    }
  }
  return { rows, exact: exactNow };
}

function printSweep(rows: SweepRow[]): void {
  const exact = rows[0]!.time;
  log('');
  log('| index | build s | size MB | ef_search | recall@10 | recall@50 | KNN top-50 p50 ms | p99 ms | p50 ÷ exact scan p50 | fewer than 50 rows |');
  log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    log(
      `| ${r.index} | ${r.buildMs === undefined ? '—' : (r.buildMs / 1000).toFixed(1)} | ${r.bytes === undefined ? '—' : (r.bytes / 2 ** 20).toFixed(0)} | ${r.efSearch ?? '—'} | ${r.recall10.toFixed(3)} | ${r.recall50.toFixed(3)} | ${ms(r.time.p50)} | ${ms(r.time.p99)} | ${(r.time.p50 / exact.p50).toFixed(2)} | ${r.short} |`,
    );
  }
}

/** The SQL of nearestMemories, captured from the code itself, to replay with other vectors. */
async function captureNearestSql(database: Database, projectId: string, probe: number[]) {
  const pool = database.pool;
  const original = pool.query.bind(pool);
  let captured: { text: string; values: unknown[] } | undefined;
  (pool as unknown as { query: unknown }).query = (cfg: { text?: string; values?: unknown[] }, values?: unknown[]) => {
    if (typeof cfg === 'object' && cfg.text?.includes('<=>')) captured ??= { text: cfg.text, values: values ?? cfg.values ?? [] };
    return (original as (c: unknown, p: unknown) => Promise<unknown>)(cfg, values);
  };
  try {
    await nearestMemories(database.db, { projectId, model: embedder.model, dimensions: DIMENSIONS, vector: probe, metadataFilter: {}, poolSize: POOL }, { strategy: 'index' });
  } finally {
    (pool as unknown as { query: unknown }).query = original;
  }
  if (!captured) throw new Error('could not capture the SQL of nearestMemories');
  const probeText = `[${probe.join(',')}]`;
  const values = (v: number[]) => captured!.values.map((p) => (p === probeText ? `[${v.join(',')}]` : p));
  const run = (v: number[]) => pool.query(captured!.text, values(v));
  /** The plan's scan nodes, e.g. "Index Scan using memories_embedding_hnsw_…". */
  const plan = async (v: number[]) =>
    (await pool.query(`EXPLAIN ${captured!.text}`, values(v))).rows
      .map((r) => String(Object.values(r)[0]).trim())
      .filter((line) => /Scan|Sort/.test(line))
      .map((line) => line.replace(/'\[[^\]]*\]'/g, "'[…]'").replace(/ +\(cost=.*$/, '').replace(/^->\s*/, ''))
      .join(' / ');
  return Object.assign(run, { plan });
}

interface AppFigures {
  knnPlan: string;
  recall10: number;
  recall50: number;
  nearest: Stats;
  raw: Stats;
  httpWarm: Stats;
  httpFresh: Stats;
  httpFreshEmbed: Stats;
  httpFresh16: { stats: Stats; perSecond: number };
  crossOver: { size: number; index: Stats; exact: Stats; auto: Stats; recall10: number; recall50: number }[];
}

async function measureApp(database: Database, meta: Meta, queryVectors: number[][], queryTexts: string[]): Promise<AppFigures> {
  const { dataset } = meta;
  const pool = database.pool;
  const app = await buildApp({ config: loadConfig(serverEnv('unused')), database, embedder, logger: false });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/memories/query`;
    const projectRow: ProjectRow = (await database.db.select().from(projects).where(eq(projects.id, dataset.queryProjectId)))[0]!;
    const searchArgs = (projectId: string, v: number[]) => ({ projectId, model: embedder.model, dimensions: DIMENSIONS, vector: v, metadataFilter: {}, poolSize: POOL });

    progress('the app: recall of nearestMemories');
    const truth = await exactTruth(database, meta, queryVectors);
    const found: string[][] = [];
    const nearest = await each(queryVectors, async (v) => found.push((await nearestMemories(database.db, searchArgs(dataset.queryProjectId, v))).map((c) => c.row.id)));
    const sorted = found; // nearestMemories returns rows by distance
    const recall10 = recallAt(truth.ids, sorted, 10);
    const recall50 = recallAt(truth.ids, sorted, 50);

    progress('the app: raw SQL and HTTP');
    const raw = await captureNearestSql(database, dataset.queryProjectId, queryVectors[0]!);
    const vectors = Array.from({ length: REQUESTS }, (_, i) => queryVectors[i % queryVectors.length]!);
    await each(vectors.slice(0, 30), raw); // warm-up
    const knnPlan = await raw.plan(queryVectors[0]!);
    const rawStats = await each(vectors, raw);
    await each(queryTexts.slice(0, 10), (task) => app.memories.query(projectRow, { task, limit: 10, lambda_: 0.5, mmr_lambda: 0.7 }));

    let httpWarm: Stats = stats([]);
    let httpFresh: Stats = stats([]);
    let httpFreshEmbed: Stats = stats([]);
    let httpFresh16 = { stats: stats([]), perSecond: NaN };
    if (!args['skip-http']) {
      const warmup = queryTexts.slice(0, 20).map((task) => JSON.stringify({ task, ...QUERY_BODY }));
      const run = async (bodies: string[], concurrency: number) => {
        embedTimes.length = 0;
        const result = await httpLoad(url, dataset.key, warmup, bodies, concurrency, 200);
        if (result.errors) throw new Error(`HTTP errors (${result.errors}): ${result.firstError}`);
        return { result, embeds: embedTimes.slice(warmup.length) };
      };
      const minusEmbed = (latencies: number[], embeds: number[]) => stats(latencies.map((l, i) => l - (embeds[i] ?? NaN)));
      const warm = await run(Array.from({ length: REQUESTS }, (_, i) => JSON.stringify({ task: queryTexts[i % queryTexts.length], ...QUERY_BODY })), 1);
      httpWarm = minusEmbed(warm.result.latencies, warm.embeds);
      const fresh = await run(Array.from({ length: REQUESTS }, () => JSON.stringify({ task: texts.freshQuery(), ...QUERY_BODY })), 1);
      httpFresh = minusEmbed(fresh.result.latencies, fresh.embeds);
      httpFreshEmbed = stats(fresh.embeds);
      const fresh16 = await run(Array.from({ length: REQUESTS }, () => JSON.stringify({ task: texts.freshQuery(), ...QUERY_BODY })), 16);
      httpFresh16 = { stats: stats(fresh16.result.latencies), perSecond: (REQUESTS / fresh16.result.wallMs) * 1000 };
    }

    const crossOver: AppFigures['crossOver'] = [];
    if (dataset.projects.length > 1) {
      progress('exact-search cross-over');
      const probe = queryVectors.slice(0, Math.min(50, queryVectors.length));
      for (const p of [...dataset.projects].sort((a, b) => a.size - b.size)) {
        if (crossOver.some((c) => c.size === p.size)) continue;
        const t = await exactTopK(pool, p.id, embedder.model, probe);
        const run = async (strategy: SearchStrategy) => {
          const ids: string[][] = [];
          await each(probe.slice(0, 10), (v) => nearestMemories(database.db, searchArgs(p.id, v), { strategy })); // warm-up
          const s = await each(probe, async (v) => ids.push((await nearestMemories(database.db, searchArgs(p.id, v), { strategy })).map((c) => c.row.id)));
          return { s, ids };
        };
        const index = await run('index');
        const exact = await run('exact');
        const auto = await run('auto');
        crossOver.push({ size: p.size, index: index.s, exact: exact.s, auto: auto.s, recall10: recallAt(t.ids, index.ids, 10), recall50: recallAt(t.ids, index.ids, 50) });
      }
    }
    return { knnPlan, recall10, recall50, nearest, raw: rawStats, httpWarm, httpFresh, httpFreshEmbed, httpFresh16, crossOver };
  } finally {
    await app.close();
  }
}

function printApp(f: AppFigures): void {
  log('');
  log('| the app as shipped (pool of 50) | p50 ms | p99 ms | ratio to the raw SQL p50 |');
  log('|---|---|---|---|');
  const row = (name: string, s: Stats) => log(`| ${name} | ${ms(s.p50)} | ${ms(s.p99)} | ${(s.p50 / f.raw.p50).toFixed(2)} |`);
  row('raw SQL of nearestMemories via the pool (reference)', f.raw);
  row('nearestMemories() (SQL + row mapping)', f.nearest);
  row('HTTP c1 warm cache, minus its embedding', f.httpWarm);
  row('HTTP c1 fresh text, minus its embedding', f.httpFresh);
  row('embedding inside those fresh requests', f.httpFreshEmbed);
  row(`HTTP c16 fresh text, whole request (${f.httpFresh16.perSecond.toFixed(0)} req/s)`, f.httpFresh16.stats);
  log('');
  log(`app recall (nearestMemories vs exact, MiniLM query texts): recall@10 ${f.recall10.toFixed(3)}, recall@50 ${f.recall50.toFixed(3)}`);
  log(`app KNN plan (SESSION ef_search ${SESSION_EF_SEARCH}, index ${indexName(embedder.model)}): ${f.knnPlan}`);
  if (f.crossOver.length) {
    log('');
    log('| project size (memories of the model) | index p50 ms | index recall@10 | index recall@50 | exact p50 ms | exact ÷ index | auto (app) p50 ms |');
    log('|---|---|---|---|---|---|---|');
    for (const c of f.crossOver) {
      log(`| ${c.size} | ${ms(c.index.p50)} | ${c.recall10.toFixed(3)} | ${c.recall50.toFixed(3)} | ${ms(c.exact.p50)} | ${(c.exact.p50 / c.index.p50).toFixed(2)} | ${ms(c.auto.p50)} |`);
    }
  }
}

const verdicts: string[] = [];
try {
  for (const size of SIZES) {
    for (const layout of LAYOUTS) {
      const spec: DatasetSpec = { size, projects: layout, seed: SEED };
      const { database, meta, save, dataDir } = await openDataset(spec);
      try {
        meta.dataDir = dataDir;
        // The same queries for the same dataset in every run (the exact top-50 is kept with it).
        const queryTexter = new Texts(SEED + 1);
        const queryTexts = Array.from({ length: RECALL_QUERIES }, () => queryTexter.query());
        const queryVectors = await embedder.embed(queryTexts);
        log('');
        log(
          `## ${size.toLocaleString('en-US')} memories, ${layout === 1 ? 'one project' : `${layout} projects, the query filtered to one of ${meta.dataset.projects[0]!.size.toLocaleString('en-US')}`} — load ${(meta.dataset.loadMs / 1000).toFixed(0)} s, app index build ${meta.appIndexMs === null ? '(existed)' : `${(meta.appIndexMs / 1000).toFixed(1)} s`}`,
        );
        const { rows } = await sweep(database, meta, queryVectors, save);
        printSweep(rows);
        const f = await measureApp(database, meta, queryVectors, queryTexts);
        printApp(f);
        const label = `${size.toLocaleString("en-US")} × ${layout}`;
        const ratio = f.httpWarm.p50 / f.raw.p50;
        verdicts.push(`| ${label} | recall@10 ≥ ${TARGETS.recall10} | ${f.recall10.toFixed(3)} | ${f.recall10 >= TARGETS.recall10 ? 'PASS' : 'MISS'} |`);
        verdicts.push(`| ${label} | recall@50 ≥ ${TARGETS.recall50} | ${f.recall50.toFixed(3)} | ${f.recall50 >= TARGETS.recall50 ? 'PASS' : 'MISS'} |`);
        if (!args['skip-http']) verdicts.push(`| ${label} | HTTP c1 p50 (minus embedding) ÷ raw SQL p50 ≤ ${TARGETS.ratio} | ${ratio.toFixed(2)} | ${ratio <= TARGETS.ratio ? 'PASS' : 'MISS'} |`);
        log(`load average now: ${loadAverage()}`);
      } finally {
        if (SERVER && !args.keep) await removeDataset(database.pool, meta.dataset);
        save();
        await database.close();
      }
    }
  }
  log('');
  log('## Targets');
  log('');
  log('| dataset | target | figure | verdict |');
  log('|---|---|---|---|');
  for (const v of verdicts) log(v);
} finally {
  await embedder.close();
}
