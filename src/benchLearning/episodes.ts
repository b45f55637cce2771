/**
 * One run of the learning benchmark (a scenario, an arm, a seed) in its own project: seeds the
 * memories over HTTP, then plays episodes as an SDK agent would: retrieve → the simulated agent
 * acts → create_trace with retrieved_memory_ids and review_result → wait for the trace. Judge
 * arms send no review_result: the project's judge grades the run, and a human may override it.
 */
import { randomUUID } from 'node:crypto';
import { ReflectHttp, type JudgeAgreement, type MemoryResult } from './client.js';
import { FixtureSpace } from './fixtureEmbeddings.js';
import { humanOverride, judgedReview } from './judgeArms.js';
import { judgeRubric, outcomeMarker } from './judgeFixture.js';
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
  /** Judge arms: the fixture judge's error rate, its alpha (undefined: the server's default) and how many episodes after a run its human review comes. */
  judge?: JudgeRunSettings;
}

export interface JudgeRunSettings {
  error: number;
  alpha?: number;
  humanDelay: number;
}

export interface EpisodeRow {
  scenario: string;
  arm: string;
  seed: number;
  episode: number;
  cluster: number;
  p: number;
  success: number;
  /** The verdict the server applied first: the agent's (after noise), the judge's, 0 when unreviewed. */
  reported: number;
  helpful_in_context: number;
  lures_in_context: number;
  derived_in_context: number;
  derived_helpful_in_context: number;
  /** Judge arms: 1 when the judge graded the run, 1 when it graded it wrongly, 1 when a human reviewed it. */
  judged: number;
  judge_wrong: number;
  human_reviewed: number;
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
  /** Judge arms: the server's agreement statistics for the run's project at its end. */
  agreement?: JudgeAgreement & { scenario: string; arm: string; seed: number };
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
  // Which runs a human reviews: u < h, so a larger share reviews a superset of a smaller one's runs.
  human: seededRandom(seed * 7919 + 4),
});

/** A judged run waiting for its human review. */
interface PendingHumanReview {
  traceId: string;
  due: number;
  truth: boolean;
  judgePassed: boolean;
  cluster: number;
  /** The memory the judge's review created (not one it merged into), whose lesson a changed verdict rewrites. */
  ownMemory: string | null;
  followedOnPass: string | null;
}

export async function runEpisodes(
  target: { url: string; bootstrapToken?: string; apiKey?: string },
  scenario: ScenarioSpec,
  arm: ArmSpec,
  seed: number,
  settings: RunSettings,
): Promise<RunResult> {
  const project = `lb-${scenario.name}-${arm.name.replace('+', '-h').replace('%', '')}-s${seed}-${randomUUID().slice(0, 8)}`;
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
  const reviews = arm.reviews ?? 'reported';
  const judge = settings.judge ?? { error: 0.2, humanDelay: 0 };
  if (reviews === 'judge') await http.setJudge(project, { enabled: true, rubric: judgeRubric(judge.error), ...(judge.alpha === undefined ? {} : { alpha: judge.alpha }) });

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

  // A memory made from a run's review: a pass writes down the advice it followed: the helpful
  // advice when there was some in context, else the first lure's; a fail's memory is neutral.
  // A memory the server merged this run into (consolidation) keeps the advice it already had.
  const noteDerived = (memoryId: string | null, cluster: number, followed: string | null) => {
    if (memoryId && !info.has(memoryId)) info.set(memoryId, { cluster, source: followed });
  };
  const pending: PendingHumanReview[] = [];
  const humanReviewsDue = async (episode: number) => {
    while (pending.length && pending[0]!.due <= episode) {
      const p = pending.shift()!;
      const trace = await humanOverride(http, p.traceId, p.truth);
      if (p.truth === p.judgePassed) continue; // Same verdict: the memory and its lesson stay.
      const followed = p.truth ? p.followedOnPass : null;
      // A changed verdict rewrites the run's own memory in place, or detaches the run's lesson from a merged one into a new memory.
      if (trace.created_memory_id && trace.created_memory_id === p.ownMemory) info.set(p.ownMemory, { cluster: p.cluster, source: followed });
      else noteDerived(trace.created_memory_id, p.cluster, followed);
    }
  };

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
    const humanReviews = rng.human() < (arm.humanFraction ?? 0);

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
    const followedOnPass = retrievedIds.find((id, i) => roles[i] === 'helpful') ?? retrievedIds.find((id, i) => roles[i] === 'lure') ?? null;
    // Judge arms: the judge's errors replace the scenario's noise; the true outcome reaches the
    // fixture judge only through this marker (the server embeds the task alone).
    const marker = reviews === 'judge' ? ` ${outcomeMarker(success, `s${seed}e${episode}`)}` : '';
    let reported = flipped ? !success : success;

    const submitted = await http.createTrace({
      task,
      trajectory: [
        { role: 'user', content: task },
        { role: 'assistant', content: `Followed ${retrievedIds.length} memories.${marker}` },
      ],
      final_response: `${(reviews === 'judge' ? success : reported) ? 'done' : 'gave up'}${marker}`,
      retrieved_memory_ids: retrievedIds,
      ...(reviews === 'reported' ? { review_result: reported ? 'pass' : 'fail' } : {}),
      metadata: { benchmark: 'learning', episode },
    });
    if (reviews === 'reported') {
      const trace = await http.waitForTrace(submitted.id);
      noteDerived(trace.created_memory_id, cluster, reported ? followedOnPass : null);
    } else if (reviews === 'judge') {
      const { trace, passed } = await judgedReview(http, submitted.id);
      reported = passed;
      const ownMemory = trace.created_memory_id && !info.has(trace.created_memory_id) ? trace.created_memory_id : null;
      noteDerived(trace.created_memory_id, cluster, passed ? followedOnPass : null);
      if (humanReviews) pending.push({ traceId: submitted.id, due: episode + judge.humanDelay, truth: success, judgePassed: passed, cluster, ownMemory, followedOnPass });
      await humanReviewsDue(episode);
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
      reported: Number(reviews !== 'none' && reported),
      helpful_in_context: Number(roles.includes('helpful')),
      lures_in_context: roles.filter((r) => r === 'lure').length,
      derived_in_context: retrievedIds.filter((id) => info.get(id)?.source !== undefined && info.get(id)!.cluster === cluster).length,
      derived_helpful_in_context: retrievedIds.filter((id, i) => info.get(id)?.source !== undefined && roles[i] === 'helpful').length,
      judged: Number(reviews === 'judge'),
      judge_wrong: Number(reviews === 'judge' && reported !== success),
      human_reviewed: Number(reviews === 'judge' && humanReviews),
      other_cluster_in_context: retrievedIds.filter((id) => info.get(id) !== undefined && info.get(id)!.cluster !== cluster).length,
      helpful_outranks_lures: Number(!arm.oracle && !arm.none && helpfulRank >= 0 && lureRanks.every((r) => r > helpfulRank)),
      ms: performance.now() - started,
    });
    if ((episode + 1) % settings.qEvery === 0 || episode === settings.episodes - 1) await readQ(episode + 1);
  }
  // Reviews due after the last episode still come (they change no figure of this run, but every
  // run picked for a human review gets one, and the server's agreement counts it).
  await humanReviewsDue(Infinity);
  const agreement = reviews === 'judge' ? { scenario: scenario.name, arm: arm.name, seed, ...(await http.judgeAgreement(project)) } : undefined;
  return { episodes: rows, q, setupSimilarity, ...(agreement ? { agreement } : {}) };
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
