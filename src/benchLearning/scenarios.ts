/**
 * The learning benchmark's world: clusters of tasks (paraphrases), per cluster one helpful
 * memory, lures (closer to the task, harmful advice) and neutral ones; the simulated agent's
 * success model; the scenarios; and the arms (what each caller sends to the server).
 */

export type Role = 'helpful' | 'lure' | 'neutral';

export interface ScenarioSpec {
  name: string;
  summary: string;
  /** Share of clusters that have lures (at least one cluster when > 0). */
  lureShare: number;
  /** Half-way through, each cluster's helpful memory turns harmful and a neutral one helpful. */
  drift: boolean;
  /** Share of verdicts flipped before they reach the server, as an LLM judge mis-grades. */
  noise: number;
}

export const SCENARIOS: Record<string, ScenarioSpec> = {
  'all-lures': { name: 'all-lures', summary: 'every cluster has lures', lureShare: 1, drift: false, noise: 0 },
  'minority-lures': { name: 'minority-lures', summary: 'a third of the clusters have lures', lureShare: 1 / 3, drift: false, noise: 0 },
  control: { name: 'control', summary: 'no lures: similarity alone is right', lureShare: 0, drift: false, noise: 0 },
  drift: { name: 'drift', summary: 'all lures; half-way the helpful memory turns harmful, a neutral one helpful', lureShare: 1, drift: true, noise: 0 },
  noisy: { name: 'noisy', summary: 'all lures; a fifth of the verdicts flipped', lureShare: 1, drift: false, noise: 0.2 },
};

/** What a caller sends besides task and limit; undefined fields are left out (server defaults). */
export interface ArmSpec {
  name: string;
  summary: string;
  /** No retrieval at all. */
  none?: boolean;
  /** Retrieval bypassed: the agent is handed the memory that is helpful now. */
  oracle?: boolean;
  body?: { lambda_?: number; similarity_threshold?: number | null };
  /**
   * Who reviews the runs: `reported` (default: the agent sends the verdict with the trace, flipped
   * by the scenario's noise), `none` (never reviewed), or `judge` (the project's judge grades each
   * run; a share `humanFraction` of them is then reviewed by a human with the true verdict).
   */
  reviews?: 'reported' | 'none' | 'judge';
  humanFraction?: number;
}

export const ARMS: Record<string, ArmSpec> = {
  none: { name: 'none', summary: 'no memory', none: true },
  similarity: { name: 'similarity', summary: 'λ = 0 (similarity only)', body: { lambda_: 0, similarity_threshold: null } },
  blend: { name: 'blend', summary: 'λ = 0.5, no threshold (the contract formula the SDK asked for before)', body: { lambda_: 0.5, similarity_threshold: null } },
  gated: { name: 'gated', summary: 'λ = 0.5, similarity_threshold 0.5', body: { lambda_: 0.5, similarity_threshold: 0.5 } },
  'gated-high': { name: 'gated-high', summary: 'λ = 0.8, similarity_threshold 0.5', body: { lambda_: 0.8, similarity_threshold: 0.5 } },
  defaults: { name: 'defaults', summary: "server defaults (task and limit only, as the SDK's query sends no threshold)", body: {} },
  oracle: { name: 'oracle', summary: 'handed the helpful memory', oracle: true },
  // Review arms: ranked as `defaults`, which is also their "perfect reviews" reference.
  unreviewed: { name: 'unreviewed', summary: 'server defaults, no run ever reviewed', body: {}, reviews: 'none' },
  judge: { name: 'judge', summary: "server defaults, every run graded by the project's judge (errs at --judge-error)", body: {}, reviews: 'judge', humanFraction: 0 },
};

/** The simulated agent: success probability from the roles of the memories in its context. */
export const AGENT = {
  base: 0.5,
  /** Added once when any helpful advice is in context. */
  helpful: 0.4,
  /** Subtracted per lure in context. */
  lure: 0.25,
  min: 0.05,
  max: 0.95,
};

export function successProbability(roles: Role[]): number {
  const p = AGENT.base + (roles.includes('helpful') ? AGENT.helpful : 0) - AGENT.lure * roles.filter((r) => r === 'lure').length;
  return Math.min(AGENT.max, Math.max(AGENT.min, p));
}

/** Seeded memories per cluster: their role and their cosine to the cluster's tasks. */
export interface SeedSpec {
  role: Role;
  similarity: number;
}

export function clusterSeeds(hasLures: boolean): SeedSpec[] {
  return hasLures
    ? [
        { role: 'helpful', similarity: 0.7 },
        { role: 'lure', similarity: 0.82 },
        { role: 'lure', similarity: 0.8 },
        { role: 'lure', similarity: 0.78 },
        { role: 'neutral', similarity: 0.62 },
        { role: 'neutral', similarity: 0.56 },
      ]
    : [
        { role: 'helpful', similarity: 0.8 },
        { role: 'neutral', similarity: 0.66 },
        { role: 'neutral', similarity: 0.6 },
        { role: 'neutral', similarity: 0.56 },
      ];
}

/** Which clusters have lures: the first ceil(share·n), so a run's layout depends only on its size. */
export function lureClusters(spec: ScenarioSpec, clusters: number): boolean[] {
  const n = spec.lureShare <= 0 ? 0 : Math.max(1, Math.round(spec.lureShare * clusters));
  return Array.from({ length: clusters }, (_, i) => i < n);
}

/** mulberry32: a small seeded generator, so every draw of a run repeats exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
