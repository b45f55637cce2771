/**
 * `reflect-server bench learning`: does ranking by learned Q make the agent succeed more often?
 * Runs every scenario × arm × seed against one server (started here, or --url), each run in
 * its own project, a few runs at a time; writes episodes.csv, q.csv, summary.md and charts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runEpisodes, type EpisodeRow, type QPoint, type RunResult, type RunSettings } from './episodes.js';
import { ARMS, SCENARIOS } from './scenarios.js';
import { markdownSummary, summarise, toCsv, type CellSummary } from './report.js';
import { armSpec, expandArms, parseFractions } from './judgeArms.js';
import { recoveryMarkdown, recoveryRows, type RecoveryRow } from './judgeReport.js';

export interface BenchmarkOptions {
  scenarios: string[];
  arms: string[];
  seeds: number;
  /** First seed; seeds are firstSeed, firstSeed + 1, … */
  firstSeed: number;
  settings: RunSettings;
  /** Runs in flight at once. */
  concurrency: number;
  /** A running server to target instead of starting one. */
  target?: { url: string; apiKey?: string; bootstrapToken?: string };
  /** OpenAI-compatible endpoint for the started server (default: the built-in fixture one). */
  openaiBaseUrl?: string;
  /** Extra server settings (REFLECT_DEFAULT_* and the like) for the started server. */
  serverEnv?: Record<string, string>;
  onProgress?: (line: string) => void;
}

export interface BenchmarkResult {
  episodes: EpisodeRow[];
  q: QPoint[];
  cells: CellSummary[];
  /** Judge arms against no reviews and perfect ones (empty without a `judge` and a `defaults` arm). */
  recovery: RecoveryRow[];
  /** Judge arms: the server's judge agreement statistics per run. */
  agreement: NonNullable<RunResult['agreement']>[];
  setupSimilarity: Record<string, number>[];
  seconds: number;
}

export async function runLearningBenchmark(options: BenchmarkOptions): Promise<BenchmarkResult> {
  const started = performance.now();
  const { startFixtureOpenAI } = await import('./fixtureOpenAI.js');
  const fixture = !options.target && !options.openaiBaseUrl ? await startFixtureOpenAI() : undefined;
  let server: { url: string; bootstrapToken?: string; apiKey?: string; close?: () => Promise<void> } | undefined = options.target;
  try {
    if (!server) {
      const { startBenchServer } = await import('./server.js');
      server = await startBenchServer({ openaiBaseUrl: options.openaiBaseUrl ?? fixture!.baseURL, embeddings: options.settings.embeddings, env: options.serverEnv });
    }
    const jobs = options.scenarios.flatMap((scenario) =>
      Array.from({ length: options.seeds }, (_, i) => options.firstSeed + i).flatMap((seed) => options.arms.map((arm) => ({ scenario, arm, seed }))),
    );
    const results: Awaited<ReturnType<typeof runEpisodes>>[] = [];
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const arm = armSpec(job.arm);
        if (!arm) throw new Error(`Unknown arm: ${job.arm}`);
        results.push(await runEpisodes(server!, SCENARIOS[job.scenario]!, arm, job.seed, options.settings));
        done++;
        options.onProgress?.(`${done}/${jobs.length} runs (${job.scenario} / ${job.arm} / seed ${job.seed}) after ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, jobs.length) }, worker));
    const order = (r: EpisodeRow) => `${options.scenarios.indexOf(r.scenario)}|${options.arms.indexOf(r.arm)}|${r.seed}`;
    const episodes = results.flatMap((r) => r.episodes).sort((a, b) => order(a).localeCompare(order(b)) || a.episode - b.episode);
    const q = results.flatMap((r) => r.q);
    const drift = new Set(options.scenarios.filter((s) => SCENARIOS[s]!.drift));
    const cells = summarise(episodes, q, options.settings.limit, drift).sort(
      (a, b) => options.scenarios.indexOf(a.scenario) - options.scenarios.indexOf(b.scenario) || options.arms.indexOf(a.arm) - options.arms.indexOf(b.arm),
    );
    const agreement = results.flatMap((r) => (r.agreement ? [r.agreement] : []));
    return { episodes, q, cells, recovery: recoveryRows(cells, episodes, agreement), agreement, setupSimilarity: results.map((r) => r.setupSimilarity), seconds: (performance.now() - started) / 1000 };
  } finally {
    if (server && !options.target) await server.close?.();
    await fixture?.close();
  }
}

export const LEARNING_HELP = [
  '--scenario <names>   comma-separated: ' + Object.keys(SCENARIOS).join(', ') + ', or all   [default: all]',
  '--arm <names>        comma-separated: ' + Object.keys(ARMS).join(', ') + ', judge+<h>%, or all   [default: all]',
  '--seeds <n>          seeds per scenario and arm                               [default: 5]',
  '--seed <n>           first seed                                               [default: 1]',
  '--episodes <n>       episodes per run                                         [default: 600]',
  '--clusters <n>       task clusters                                            [default: 6]',
  '--limit <n>          memories the agent reads per task                        [default: 3]',
  '--via <query|augment> the retrieval call                                      [default: query]',
  '--embeddings <fixture|local>  fixture cosines (exact) or MiniLM on written texts [default: fixture]',
  '--concurrency <n>    runs at once                                             [default: 6]',
  '--judge-error <e>    judge arms: share of runs the (fixture) judge grades wrongly [default: 0.2]',
  '--judge-alpha <a>    judge arms: alpha of the judge\'s verdicts        [default: the server\'s, 0.1]',
  '--human-fractions <h,…>  the judge arm brings judge+<h>% arms: a random share h of runs',
  '                     then reviewed by a human with the true verdict (none: judge alone) [default: 0.1,0.25,0.5,1]',
  '--human-delay <n>    episodes between a run and its human review            [default: 0]',
  '--out <dir>          where episodes.csv, q.csv, summary.md and the PNGs go    [default: bench/results/learning]',
  '--url <url> --key <master key>   drive a running server instead of starting one (each run in a new',
  '                     project of the key\'s user, named lb-<scenario>-<arm>-s<seed>-…; its embedder must',
  '                     understand the texts: --embeddings local, or OPENAI_BASE_URL at a fixture server;',
  '                     judge arms need its LLM at the fixture server, which plays the judge)',
].join('\n');

const list = (value: string, all: string[], what: string) => {
  const names = value === 'all' ? all : value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`Unknown ${what}: ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return names;
};

const positive = (value: string, name: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: must be a positive integer`);
  return n;
};

/** The CLI: parses its own options (argv after `bench learning`), runs, writes the outputs. */
export async function benchLearningCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'all' },
      arm: { type: 'string', default: 'all' },
      seeds: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      episodes: { type: 'string', default: '600' },
      clusters: { type: 'string', default: '6' },
      limit: { type: 'string', default: '3' },
      via: { type: 'string', default: 'query' },
      embeddings: { type: 'string', default: 'fixture' },
      concurrency: { type: 'string', default: '6' },
      'judge-error': { type: 'string', default: '0.2' },
      'judge-alpha': { type: 'string' },
      'human-fractions': { type: 'string', default: '0.1,0.25,0.5,1' },
      'human-delay': { type: 'string', default: '0' },
      out: { type: 'string', default: 'bench/results/learning' },
      url: { type: 'string' },
      key: { type: 'string' },
    },
  });
  if (values.via !== 'query' && values.via !== 'augment') throw new Error('--via: query or augment');
  if (values.embeddings !== 'fixture' && values.embeddings !== 'local') throw new Error('--embeddings: fixture or local');
  if (values.url && !values.key) throw new Error('--url needs --key (an API key of the project to use)');
  const judgeError = Number(values['judge-error']);
  if (!(judgeError >= 0 && judgeError <= 1)) throw new Error('--judge-error: a share within 0…1');
  const judgeAlpha = values['judge-alpha'] === undefined ? undefined : Number(values['judge-alpha']);
  if (judgeAlpha !== undefined && !(judgeAlpha > 0 && judgeAlpha <= 1)) throw new Error('--judge-alpha: greater than 0 and at most 1');
  const humanDelay = Number(values['human-delay']);
  if (!Number.isInteger(humanDelay) || humanDelay < 0) throw new Error('--human-delay: a whole number of episodes ≥ 0');
  const fractions = parseFractions(values['human-fractions']!);
  const options: BenchmarkOptions = {
    scenarios: list(values.scenario!, Object.keys(SCENARIOS), 'scenario'),
    arms: expandArms(values.arm === 'all' ? Object.keys(ARMS) : values.arm!.split(',').map((s) => s.trim()), fractions).map((name) => {
      if (!armSpec(name)) throw new Error(`Unknown arm: ${name} (choose from ${Object.keys(ARMS).join(', ')}, judge+<h>%)`);
      return name;
    }),
    seeds: positive(values.seeds!, 'seeds'),
    firstSeed: positive(values.seed!, 'seed'),
    concurrency: positive(values.concurrency!, 'concurrency'),
    settings: {
      clusters: positive(values.clusters!, 'clusters'),
      paraphrases: 4,
      episodes: positive(values.episodes!, 'episodes'),
      limit: positive(values.limit!, 'limit'),
      via: values.via,
      embeddings: values.embeddings,
      qEvery: 10,
      judge: { error: judgeError, ...(judgeAlpha === undefined ? {} : { alpha: judgeAlpha }), humanDelay },
    },
    ...(values.url ? { target: { url: values.url.replace(/\/$/, ''), apiKey: values.key } } : {}),
    onProgress: (line) => process.stderr.write(`  … ${line}\n`),
  };
  const result = await runLearningBenchmark(options);
  const out = values.out!;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'episodes.csv'), toCsv(result.episodes));
  writeFileSync(join(out, 'q.csv'), toCsv(result.q));
  const command = `reflect-server bench learning ${argv.join(' ')}`.trim();
  const s = options.settings;
  const setup = result.setupSimilarity[0];
  const settings =
    `${s.clusters} clusters × ${s.paraphrases} wordings, ${s.episodes} episodes, limit ${s.limit}, via ${s.via}, ${s.embeddings} embeddings` +
    (setup ? ` (cosine to tasks: helpful ${setup.helpful!.toFixed(2)}, lures ${Number.isFinite(setup.lure) ? setup.lure!.toFixed(2) : '—'}, neutral ${setup.neutral!.toFixed(2)})` : '');
  const summary =
    markdownSummary(result.cells, { command, settings, seconds: result.seconds }) +
    (result.recovery.length ? `\n${recoveryMarkdown(result.recovery, { judgeError, judgeAlpha, humanDelay })}` : '');
  writeFileSync(join(out, 'summary.md'), summary);
  const { successChart, qChart, recoveryChart } = await import('./charts.js');
  writeFileSync(join(out, 'success.png'), await successChart(result.episodes, Math.max(10, Math.round(s.episodes / 20 / 10) * 10)));
  writeFileSync(join(out, 'q.png'), await qChart(result.q.filter((p) => p.arm !== 'none')));
  if (result.recovery.length) writeFileSync(join(out, 'recovery.png'), await recoveryChart(result.recovery));
  process.stdout.write(summary);
  process.stdout.write(`\nWrote ${join(out, 'episodes.csv')}, q.csv, summary.md, success.png, q.png${result.recovery.length ? ', recovery.png' : ''}\n`);
  return 0;
}
