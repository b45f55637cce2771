/**
 * The console's server side at scale: `npm run bench:console [-- --traces 100000 --requests 200]`.
 *
 * One project with N traces (bulk SQL: a short conversation each, spread over 90 days, 60 %
 * reviewed pass/fail, a model and metadata), 2 000 memories and N/2 LLM call records, on the
 * embedded engine in a temporary folder. Then the server time per request (app.inject, so no
 * socket) of what the console asks most: the trace table's first page, a deep page (the cursor
 * of the ~N/2-th trace), the first page with a filter, the overview's statistics and the judge's
 * agreement (half the reviewed traces judged, a fifth of those against the person); GET /health
 * alongside, as the pace of the machine in the same run (a shared machine's load shows there).
 * Targets: list ≤ 20 ms p50, stats and agreement ≤ 100 ms p50. Besides the wall time, the process's CPU time per request
 * (all threads): on a loaded machine the wall time measures the load, the CPU time the work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { encodeCursor } from '../src/http/cursor.js';
import { fmt, loadAverage, log, ms, progress, stats, type Stats } from './support.js';

const { values: args } = parseArgs({
  options: {
    traces: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '200' },
    // --no-analyze: as a server that has never run ANALYZE on its traces (the embedded engine has no autovacuum)
    'no-analyze': { type: 'boolean', default: false },
  },
});
const TRACES = Number(args.traces);
const REQUESTS = Number(args.requests);
const MEMORIES = 2_000;
const TARGETS = { listP50: 20, statsP50: 100 };
const BATCH = 10_000;

const dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-bench-console-'));
const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', REFLECT_DATA_DIR: dataDir });
const app = await buildApp({ config, role: 'api', logger: false });

try {
  await app.ready();
  const key = (await app.auth.createMasterKey({ userId: 'bench', projectId: 'bench', label: 'bench', environment: 'live' })).api_key;
  const pool = app.database.pool;
  const projectId = (await pool.query("select id from projects where slug = 'bench'")).rows[0].id as string;

  progress(`seeding ${TRACES} traces, ${MEMORIES} memories, ${TRACES / 2} LLM calls`);
  const seedStarted = performance.now();
  for (let from = 0; from < TRACES; from += BATCH) {
    const to = Math.min(TRACES, from + BATCH) - 1;
    await pool.query(
      `INSERT INTO traces (project_id, task, trajectory, final_response, model, metadata, ingest_status, review_status,
                           review_result, review_alpha, reviewed_at, created_at, updated_at)
       SELECT $1, 'Count the orders placed in month ' || (g % 12) || ' for customer ' || g,
              jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'How many orders did customer ' || g || ' place? Please check the orders table and the archive.'),
                                jsonb_build_object('role', 'assistant', 'content', 'SELECT count(*) FROM orders WHERE customer_id = ' || g || '; -- ' || (g * 7 % 1000))),
              (g * 7 % 1000)::text, 'model-' || (g % 3), jsonb_build_object('env', CASE WHEN g % 5 = 0 THEN 'staging' ELSE 'prod' END, 'run', g),
              'completed', CASE WHEN g % 5 < 3 THEN 'reviewed' ELSE 'pending' END,
              CASE WHEN g % 5 < 3 THEN (CASE WHEN g % 7 < 4 THEN 'pass' ELSE 'fail' END) END,
              CASE WHEN g % 5 < 3 THEN 0.3 END,
              CASE WHEN g % 5 < 3 THEN now() - make_interval(secs => ($3 - g) * 77760.0 / $3 * 100) END,
              now() - make_interval(secs => ($3 - g) * 77760.0 / $3 * 100),
              now() - make_interval(secs => ($3 - g) * 77760.0 / $3 * 100)
       FROM generate_series($2::int, $4::int) g`,
      [projectId, from, TRACES, to],
    );
  }
  const zero = `[${new Array(384).fill(0.01).join(',')}]`;
  await pool.query(
    `INSERT INTO memories (project_id, task, reflection, q_value, embedding, embedding_model, created_at)
     SELECT $1, 'lesson ' || g, 'reflection ' || g, (g % 101) / 100.0, $2::vector, 'bench', now() - make_interval(hours => g % 2000)
     FROM generate_series(1, $3::int) g`,
    [projectId, zero, MEMORIES],
  );
  await pool.query(
    `INSERT INTO llm_calls (project_id, purpose, model, tokens_in, tokens_out, latency_ms, outcome, created_at)
     SELECT $1, 'reflection', 'model-1', 800 + g % 400, 150 + g % 50, 900, CASE WHEN g % 50 = 0 THEN 'error' ELSE 'ok' END,
            now() - make_interval(secs => g * 77760.0 / $2 * 100)
     FROM generate_series(1, $2::int) g`,
    [projectId, TRACES / 2],
  );
  // The judge's agreement: about half of the reviewed traces were judged before a person reviewed them, one verdict in five against the person's.
  await pool.query(
    `UPDATE traces SET review_source = 'human', judge_status = 'judged', judged_at = reviewed_at - interval '1 minute', judge_attempts = 1,
            judge_reason = 'bench verdict', judge_model = 'model-1',
            judge_result = CASE WHEN abs(hashtext(id::text)) % 5 = 0 THEN (CASE review_result WHEN 'pass' THEN 'fail' ELSE 'pass' END) ELSE review_result END
     WHERE project_id = $1 AND review_result IS NOT NULL AND abs(hashtext(id::text)) % 2 = 0`,
    [projectId],
  );
  // The embedded engine has no autovacuum: without statistics the planner guesses.
  if (!args['no-analyze']) await pool.query('ANALYZE traces; ANALYZE memories; ANALYZE llm_calls');
  progress(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const deep = (await pool.query(
    `SELECT created_at::text AS position, id FROM traces WHERE project_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`,
    [projectId, Math.floor(TRACES / 2)],
  )).rows[0] as { position: string; id: string };
  // As the console holds it: the cursor of page 1's walk carries page 1's total.
  const deepCursor = encodeCursor({ createdAt: deep.position, id: deep.id }, TRACES);

  /** Wall time per request, and the process's CPU time per request (all threads: the embedded engine runs on one of its own). */
  async function measure(url: string, expectRows?: number): Promise<{ wall: Stats; cpuMs: number }> {
    const headers = { authorization: `Bearer ${key}`, 'x-project-id': 'bench' };
    for (let i = 0; i < 10; i++) await app.inject({ method: 'GET', url, headers }); // warm-up
    const samples: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const res = await app.inject({ method: 'GET', url, headers });
      samples.push(performance.now() - started);
      if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${res.body}`);
      if (expectRows !== undefined && i === 0 && (res.json() as unknown[]).length !== expectRows) throw new Error(`${url}: not ${expectRows} rows`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    return { wall: stats(samples), cpuMs: (cpu.user + cpu.system) / 1000 / REQUESTS };
  }

  const cases: [string, string, number | undefined, number | undefined][] = [
    ['baseline: GET /health (no database: the pace of the machine)', '/health', undefined, undefined],
    ['trace list, first page (table: limit 50, no trajectories)', '/v1/traces?limit=50&include_trajectory=false', TARGETS.listP50, 50],
    ['trace list, deep page (cursor after 50 %, total carried)', `/v1/traces?limit=50&include_trajectory=false&cursor=${deepCursor}`, TARGETS.listP50, 50],
    ['trace list, first page with trajectories', '/v1/traces?limit=50', TARGETS.listP50, 50],
    ['trace list, filtered (pending, model, metadata)', '/v1/traces?limit=50&include_trajectory=false&review_status=pending&model=model-1&metadata_key=env&metadata_value=prod', TARGETS.listP50, 50],
    ['stats (days=30)', '/v1/stats?days=30', TARGETS.statsP50, undefined],
    ["judge agreement (the overview's: 30 days)", '/v1/projects/bench/judge/agreement', TARGETS.statsP50, undefined],
  ];
  log(`# Console server side: ${TRACES} traces in one project${args['no-analyze'] ? ' (never analyzed)' : ''}, ${REQUESTS} requests each (app.inject), load ${loadAverage()}`);
  log();
  log('| request | server time (wall) | CPU per request (mean) | target p50 | ratio p50/target |');
  log('|---|---|---|---|---|');
  for (const [name, url, target, rows] of cases) {
    const { wall: s, cpuMs } = await measure(url, rows);
    const verdict = target === undefined ? '—' : `${(s.p50 / target).toFixed(2)} ${s.p50 <= target ? '✓' : '✗'}`;
    log(`| ${name} | ${fmt(s)} | ${ms(cpuMs)} ms | ${target === undefined ? '—' : `≤ ${target} ms`} | ${verdict} |`);
  }

  // What X-Total-Count costs inside the list: the same count the first page runs.
  const countSamples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await pool.query('SELECT count(*) FROM traces WHERE project_id = $1', [projectId]);
    countSamples.push(performance.now() - started);
  }
  log();
  log(`X-Total-Count's count(*) over the project's ${TRACES} traces alone: p50 ${ms(stats(countSamples).p50)} ms (what a first page costs more when a trace was added since the last count, or with a status filter, which is counted every time)`);
  log('On a shared machine the wall times grow with its load; the CPU time per request is what a request costs on an idle one.');
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
