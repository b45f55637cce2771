/**
 * `npm run bench:consolidation`: the learning benchmark (src/benchLearning) twice on the same
 * scenarios, arm and seeds — once with consolidation of near-duplicate memories on (the
 * default), once off — printing the learning figures and the bank size of each side by side.
 *
 * Options: --scenario a,b  --arm name  --seeds n  --episodes n  --embeddings fixture|local
 *          --threshold t (the consolidation threshold of the "on" side; default the server's)
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { startFixtureOpenAI } from '../src/benchLearning/fixtureOpenAI.js';
import { runLearningBenchmark, type BenchmarkResult } from '../src/benchLearning/index.js';
import { loadConfig } from '../src/config.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'control,all-lures' },
    arm: { type: 'string', default: 'defaults' },
    seeds: { type: 'string', default: '3' },
    episodes: { type: 'string', default: '300' },
    embeddings: { type: 'string', default: 'fixture' },
    threshold: { type: 'string' },
    concurrency: { type: 'string', default: '3' },
  },
});
const embeddings = values.embeddings === 'local' ? 'local' : 'fixture';

interface Side {
  label: string;
  result: BenchmarkResult;
  bank: { scenario: string; memories: number; derived: number; evidence: number }[];
}

async function run(label: string, consolidation: 'on' | 'off', fixtureUrl: string): Promise<Side> {
  const bootstrapToken = randomBytes(18).toString('hex');
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'warn',
    PORT: '0',
    REFLECT_DATA_DIR: 'memory://',
    REFLECT_BOOTSTRAP_TOKEN: bootstrapToken,
    OPENAI_API_KEY: 'learning-bench',
    OPENAI_BASE_URL: fixtureUrl,
    REFLECT_LLM_MODEL: 'fixture-llm',
    REFLECT_EMBEDDING_PROVIDER: embeddings === 'fixture' ? 'openai' : 'local',
    REFLECT_RATE_LIMIT_MAX: '10000000',
    REFLECT_CONSOLIDATION: consolidation,
    ...(values.threshold ? { REFLECT_CONSOLIDATION_THRESHOLD: values.threshold } : {}),
  });
  const app: FastifyInstance = await buildApp({ config, logger: false });
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const result = await runLearningBenchmark({
      scenarios: values.scenario!.split(','),
      arms: values.arm!.split(','),
      seeds: Number(values.seeds),
      firstSeed: 1,
      concurrency: Number(values.concurrency),
      target: { url, bootstrapToken },
      settings: { clusters: 6, paraphrases: 4, episodes: Number(values.episodes), limit: 3, via: 'query', embeddings, qEvery: 25 },
      onProgress: (line) => process.stderr.write(`[${label}] ${line}\n`),
    });
    // Each run has its own project `lb-<scenario>-<arm>-s<seed>-…`: the bank it left behind.
    const { rows } = await app.database.pool.query<{ slug: string; memories: number; derived: number; evidence: number }>(`
      SELECT p.slug, count(m.id)::int AS memories,
             count(m.id) FILTER (WHERE cardinality(m.source_trace_ids) > 0)::int AS derived,
             coalesce(sum(m.evidence_count) FILTER (WHERE cardinality(m.source_trace_ids) > 0), 0)::int AS evidence
      FROM projects p LEFT JOIN memories m ON m.project_id = p.id
      WHERE p.slug LIKE 'lb-%' GROUP BY p.slug`);
    const bank = rows.map((r) => ({ scenario: r.slug.split('-').slice(1, -3).join('-'), memories: r.memories, derived: r.derived, evidence: r.evidence }));
    return { label, result, bank };
  } finally {
    await app.close();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const fixed = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '—');

const fixture = embeddings === 'fixture' ? await startFixtureOpenAI() : undefined;
try {
  const url = fixture?.baseURL ?? 'http://127.0.0.1:9/v1';
  const sides = [await run('consolidation on', 'on', url), await run('consolidation off', 'off', url)];
  console.log(`\nLearning benchmark, consolidation on vs off (${values.scenario}; arm ${values.arm}; ${values.seeds} seeds × ${values.episodes} episodes; ${embeddings} embeddings)\n`);
  console.log('| scenario | side | success, last third | AUC end | outrank episode | derived share in context | memories per run | derived memories | runs per derived memory |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const scenario of values.scenario!.split(',')) {
    for (const side of sides) {
      const cell = side.result.cells.find((c) => c.scenario === scenario);
      const bank = side.bank.filter((b) => b.scenario === scenario);
      if (!cell) continue;
      console.log(
        `| ${scenario} | ${side.label} | ${fixed(cell.successLastThird.mean)} ± ${fixed(cell.successLastThird.sd)} | ${fixed(cell.aucEnd.mean)} | ${fixed(cell.outrankEpisode.mean, 0)} | ${fixed(cell.derivedShare.mean)} | ${fixed(mean(bank.map((b) => b.memories)), 1)} | ${fixed(mean(bank.map((b) => b.derived)), 1)} | ${fixed(mean(bank.map((b) => b.evidence / (b.derived || 1))), 2)} |`,
      );
    }
  }
  console.log(`\nWall time: ${sides.map((s) => `${s.label} ${s.result.seconds.toFixed(0)} s`).join(', ')}`);
} finally {
  await fixture?.close();
}
