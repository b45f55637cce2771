/**
 * One run of the learning benchmark (a scenario, an arm, a seed) in its own project: seeds the
 * memories over HTTP, then plays episodes as an SDK agent would: retrieve → the simulated agent
 * acts → create_trace with retrieved_memory_ids and review_result → wait for the trace.
 */
import { randomUUID } from 'node:crypto';
import { ReflectHttp, type MemoryResult } from './client.js';
import { FixtureSpace } from './fixtureEmbeddings.js';
import { clusterSeeds, lureClusters, seededRandom, successProbability, type ArmSpec, type Role, type ScenarioSpec } from './scenarios.js';
import { WRITTEN_CLUSTERS } from './writtenTexts.js';

export interface RunSettings {
  clusters: number;
  paraphrases: number;
  episodes: number;
  /** How many memories the agent reads (the query's limit). */
  limit: number;
  via: 'query' | 'augment';
  embeddings: 'fixture' | 'local';
  /** Q-values of the seeded memories are read every this many episodes. */
  qEvery: number;
}

export interface EpisodeRow {
  scenario: string;
  arm: string;
  seed: number;
  episode: number;
  cluster: number;
  p: number;
  success: number;
  reported: number;
  helpful_in_context: number;
  lures_in_context: number;
  derived_in_context: number;
  derived_helpful_in_context: number;
  other_cluster_in_context: number;
  /** 1 when the seeded helpful memory is returned above every lure of its cluster. */
  helpful_outranks_lures: number;
  ms: number;
}

export interface QPoint {
  scenario: string;
  arm: string;
  seed: number;
  episode: number;
  cluster: number;
  memory: string;
  /** Role the memory was seeded with, and its role at this episode (they differ after drift). */
  seeded_role: Role;
  role_now: Role;
  q: number;
}

export interface RunResult {
  episodes: EpisodeRow[];
  q: QPoint[];
  /** Cosines the embedder gave (seeded memory → its cluster's tasks), mean per role. */
  setupSimilarity: Record<Role, number>;
}

interface MemoryInfo {
  cluster: number;
  /** Seeded memories: their role at the start; the drifting neutral is marked. */
  seeded?: { role: Role; drifts: boolean };
  /** Trace-derived memories: the memory whose advice the run followed (when it was judged a pass). */
  source?: string | null;
}

interface World {
  tasks: string[][];
  seeds: { cluster: number; role: Role; drifts: boolean; task: string; reflection: string }[];
}

function buildWorld(scenario: ScenarioSpec, settings: RunSettings): World {
  const withLures = lureClusters(scenario, settings.clusters);
  if (settings.embeddings === 'local') {
    if (settings.clusters > WRITTEN_CLUSTERS.length) throw new Error(`--clusters: at most ${WRITTEN_CLUSTERS.length} with written texts`);
    return {
      tasks: WRITTEN_CLUSTERS.slice(0, settings.clusters).map((c) => c.tasks.slice(0, settings.paraphrases)),
      seeds: WRITTEN_CLUSTERS.slice(0, settings.clusters).flatMap((c, k) => [
        { cluster: k, role: 'helpful' as Role, drifts: false, ...c.helpful },
        ...(withLures[k] ? c.lures.map((m) => ({ cluster: k, role: 'lure' as Role, drifts: false, ...m })) : []),
        ...c.neutral.map((m, i) => ({ cluster: k, role: 'neutral' as Role, drifts: i === 0, ...m })),
      ]),
    };
  }
  const space = new FixtureSpace(settings.clusters);
  return {
    tasks: Array.from({ length: settings.clusters }, (_, k) =>
      Array.from({ length: settings.paraphrases }, (_, p) => `Task of kind ${k}, wording ${p} ${space.task(k)}`),
    ),
    seeds: Array.from({ length: settings.clusters }, (_, k) => {
      let neutrals = 0;
      return clusterSeeds(withLures[k]!).map((s, i) => ({
        cluster: k,
        role: s.role,
        drifts: s.role === 'neutral' && neutrals++ === 0,
        task: `Lesson ${i} about kind ${k} ${space.memory(k, s.similarity)}`,
        reflection: `Advice ${i} for tasks of kind ${k}.`,
      }));
    }).flat(),
  };
}

/** Stable seeds per purpose, so every arm of a seed sees the same tasks and the same draws. */
const streams = (seed: number) => ({
  task: seededRandom(seed * 7919 + 1),
  outcome: seededRandom(seed * 7919 + 2),
  noise: seededRandom(seed * 7919 + 3),
});

export async function runEpisodes(
  target: { url: string; bootstrapToken?: string; apiKey?: string },
  scenario: ScenarioSpec,
  arm: ArmSpec,
  seed: number,
  settings: RunSettings,
): Promise<RunResult> {
  const project = `lb-${scenario.name}-${arm.name}-s${seed}-${randomUUID().slice(0, 8)}`;
  const key = target.bootstrapToken
    ? await ReflectHttp.bootstrap(target.url, target.bootstrapToken, 'learning-bench', project)
    : target.apiKey!;
  // A master key reaches (and creates) any project of its user through X-Project-Id.
  const http = new ReflectHttp(target.url, key, project);
  const world = buildWorld(scenario, settings);
  const info = new Map<string, MemoryInfo>();
  const seedIds: string[] = [];
  for (const s of world.seeds) {
    const created = await http.createMemory({ task: s.task, reflection: s.reflection, metadata: { benchmark: 'learning' } });
    info.set(created.id, { cluster: s.cluster, seeded: { role: s.role, drifts: s.drifts } });
    seedIds.push(created.id);
  }
  const setupSimilarity = await measureSetup(http, world, seedIds, info);

  const half = Math.floor(settings.episodes / 2);
  const roleOf = (id: string, cluster: number, episode: number): Role => {
    const m = info.get(id);
    if (!m || m.cluster !== cluster) return 'neutral';
    if (m.source !== undefined) return m.source === null ? 'neutral' : roleOf(m.source, cluster, episode);
    const { role, drifts } = m.seeded!;
    if (!scenario.drift || episode < half) return role;
    return role === 'helpful' ? 'lure' : drifts ? 'helpful' : role;
  };
  const helpfulNow = (cluster: number, episode: number) => seedIds.find((id) => info.get(id)!.cluster === cluster && roleOf(id, cluster, episode) === 'helpful')!;

  const rng = streams(seed);
  const rows: EpisodeRow[] = [];
  const q: QPoint[] = [];
  const readQ = async (episode: number) => {
    const tracked = seedIds.filter((id) => info.get(id)!.seeded!.role !== 'neutral' || info.get(id)!.seeded!.drifts);
    // The seeded memories were created first, so the oldest page holds them all: one request.
    const oldest = new Map((await http.listOldest(seedIds.length)).map((m) => [m.id, m]));
    const values = await Promise.all(tracked.map((id) => oldest.get(id) ?? http.getMemory(id)));
    values.forEach((m, i) => {
      const mi = info.get(tracked[i]!)!;
      q.push({ scenario: scenario.name, arm: arm.name, seed, episode, cluster: mi.cluster, memory: m.id, seeded_role: mi.seeded!.role, role_now: roleOf(m.id, mi.cluster, episode), q: m.q_value });
    });
  };
  await readQ(0);

  for (let episode = 0; episode < settings.episodes; episode++) {
    const started = performance.now();
    const cluster = Math.floor(rng.task() * settings.clusters);
    const task = world.tasks[cluster]![Math.floor(rng.task() * settings.paraphrases)]!;
    const draw = rng.outcome();
    const flipped = rng.noise() < scenario.noise;

    let context: MemoryResult[] = [];
    let retrievedIds: string[] = [];
    if (arm.oracle) {
      retrievedIds = [helpfulNow(cluster, episode)];
    } else if (!arm.none) {
      context = (await http.retrieve(settings.via, { task, limit: settings.limit, ...arm.body })).slice(0, settings.limit);
      retrievedIds = context.map((m) => m.id);
    }
    const roles = retrievedIds.map((id) => roleOf(id, cluster, episode));
    const p = successProbability(roles);
    const success = draw < p;
    const reported = flipped ? !success : success;

    const submitted = await http.createTrace({
      task,
      trajectory: [
        { role: 'user', content: task },
        { role: 'assistant', content: `Followed ${retrievedIds.length} memories.` },
      ],
      final_response: reported ? 'done' : 'gave up',
      retrieved_memory_ids: retrievedIds,
      review_result: reported ? 'pass' : 'fail',
      metadata: { benchmark: 'learning', episode },
    });
    const trace = await http.waitForTrace(submitted.id);
    // A memory the server merged this run into (consolidation) keeps the advice it already had.
    if (trace.created_memory_id && !info.has(trace.created_memory_id)) {
      // A reflection on a run judged a pass writes down the advice it followed: the helpful
      // advice when there was some in context, else the first lure's.
      const followed = reported ? (retrievedIds.find((id, i) => roles[i] === 'helpful') ?? retrievedIds.find((id, i) => roles[i] === 'lure') ?? null) : null;
      info.set(trace.created_memory_id, { cluster, source: followed });
    }

    const seededHelpful = helpfulNow(cluster, episode);
    const helpfulRank = retrievedIds.indexOf(seededHelpful);
    const lureRanks = retrievedIds.map((id, i) => (info.get(id)?.seeded && roles[i] === 'lure' ? i : -1)).filter((i) => i >= 0);
    rows.push({
      scenario: scenario.name,
      arm: arm.name,
      seed,
      episode,
      cluster,
      p,
      success: Number(success),
      reported: Number(reported),
      helpful_in_context: Number(roles.includes('helpful')),
      lures_in_context: roles.filter((r) => r === 'lure').length,
      derived_in_context: retrievedIds.filter((id) => info.get(id)?.source !== undefined && info.get(id)!.cluster === cluster).length,
      derived_helpful_in_context: retrievedIds.filter((id, i) => info.get(id)?.source !== undefined && roles[i] === 'helpful').length,
      other_cluster_in_context: retrievedIds.filter((id) => info.get(id) !== undefined && info.get(id)!.cluster !== cluster).length,
      helpful_outranks_lures: Number(!arm.oracle && !arm.none && helpfulRank >= 0 && lureRanks.every((r) => r > helpfulRank)),
      ms: performance.now() - started,
    });
    if ((episode + 1) % settings.qEvery === 0 || episode === settings.episodes - 1) await readQ(episode + 1);
  }
  return { episodes: rows, q, setupSimilarity };
}

/**
 * The cosines the server's embedder gives each seeded memory against its cluster's tasks (read
 * from a λ = 0 query, so over HTTP); with written texts, every lure must beat the helpful memory.
 */
async function measureSetup(http: ReflectHttp, world: World, seedIds: string[], info: Map<string, MemoryInfo>): Promise<Record<Role, number>> {
  const sums: Record<Role, number[]> = { helpful: [], lure: [], neutral: [] };
  const problems: string[] = [];
  for (const [cluster, tasks] of world.tasks.entries()) {
    const mine = seedIds.filter((id) => info.get(id)!.cluster === cluster);
    const mean = new Map<string, number>(mine.map((id) => [id, 0]));
    for (const task of tasks) {
      const found = await http.retrieve('query', { task, limit: 100, lambda_: 0, similarity_threshold: null, mmr_lambda: 1 });
      for (const m of found) if (mean.has(m.id)) mean.set(m.id, mean.get(m.id)! + m.similarity / tasks.length);
    }
    const helpful = mine.find((id) => info.get(id)!.seeded!.role === 'helpful')!;
    for (const id of mine) {
      sums[info.get(id)!.seeded!.role].push(mean.get(id)!);
      if (info.get(id)!.seeded!.role === 'lure' && mean.get(id)! <= mean.get(helpful)!) {
        problems.push(`cluster ${cluster}: a lure (${mean.get(id)!.toFixed(3)}) is not closer to the tasks than the helpful memory (${mean.get(helpful)!.toFixed(3)})`);
      }
    }
  }
  if (problems.length) throw new Error(`Set-up check failed:\n${problems.join('\n')}`);
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return { helpful: avg(sums.helpful), lure: avg(sums.lure), neutral: avg(sums.neutral) };
}
