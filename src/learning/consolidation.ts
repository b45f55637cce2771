import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  consolidationSettings,
  findNearDuplicate,
  mergeMemoryAndApplyReview,
  type ConsolidationSettings,
  type MergedLesson,
  type NearDuplicate,
} from '../db/consolidation.js';
import { storeMemoryAndApplyReview, type AppliedReview, type ReflectionMemory } from '../db/learning.js';
import { withLlmCallContext } from '../llm/usage/context.js';
import type { MemoryMerger } from './memoryMerger.js';
import type { Reflection } from './reflection.js';

export interface ConsolidationDeps {
  db: Db;
  merger: MemoryMerger;
  /** The server's defaults; a project's own settings override them. */
  defaults: ConsolidationSettings;
  dimensions: number;
}

export interface ReviewToStore {
  traceId: string;
  /** The ingest round the job claimed: a trace that moved on (a human override) is left alone. */
  round: number;
  projectId: string;
  memory: ReflectionMemory;
  reflection: Reflection;
  passed: boolean;
  retrievedMemoryIds: string[];
  reward: number;
  alpha: number;
}

export type StoredReview = AppliedReview & { merged: boolean };

/** Namespace of the per-project advisory lock (the other key is the project id's hash). */
const CONSOLIDATION_LOCK_NAMESPACE = 727_401_013;

/** A near-duplicate that keeps changing under us (busy project) is left to the job's next attempt. */
const MAX_ROUNDS = 4;

export class ConsolidationContentionError extends Error {
  constructor(traceId: string) {
    super(`trace ${traceId}: its near-duplicate memory kept changing while the merge was written; trying again later`);
    this.name = 'ConsolidationContentionError';
  }
}

const sameTwin = (a: NearDuplicate | undefined, b: NearDuplicate | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.id === b.id && a.reflection === b.reflection && a.evidenceCount === b.evidenceCount);

/**
 * Stores a reviewed trace's lesson: into a near-duplicate live memory of the project (same
 * outcome, task cosine ≥ the threshold) when consolidation is on, else as a new memory.
 *
 * The merged text is written (LLM) outside any lock. Then, in one short transaction under a
 * per-project advisory lock, the near-duplicate is looked up again: if it is the one the text
 * was written from, unchanged, the merge statement applies; if there is none, the insert
 * statement does; otherwise the text is rewritten for what is there now. So two concurrent
 * reviews of similar traces end in one memory (the second merges into the first), and each
 * trace's lesson lands exactly once: both statements lock the trace and write nothing for a
 * trace already reviewed, or whose ingest round is no longer the job's (its review was replaced).
 */
export async function storeReviewedLesson(deps: ConsolidationDeps, review: ReviewToStore): Promise<StoredReview> {
  const { db } = deps;
  const settings = await consolidationSettings(db, review.projectId, deps.defaults);
  const base = { traceId: review.traceId, round: review.round, retrievedMemoryIds: review.retrievedMemoryIds, reward: review.reward, alpha: review.alpha };
  if (!settings.enabled) return { ...(await storeMemoryAndApplyReview(db, { ...base, memory: review.memory })), merged: false };

  const search = {
    projectId: review.projectId,
    model: review.memory.embeddingModel,
    dimensions: deps.dimensions,
    vector: review.memory.embedding,
    success: review.passed,
    threshold: settings.threshold,
  };
  let twin = await findNearDuplicate(db, search);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const existing = twin;
    const lesson: MergedLesson | undefined = existing
      ? await withLlmCallContext({ purpose: 'memory_merge', projectId: review.projectId, traceId: review.traceId }, () =>
          deps.merger.merge({ existing, incoming: review.reflection, task: review.memory.task, passed: review.passed }),
        )
      : undefined;
    const prepared = twin;
    const outcome = await db.transaction(async (tx): Promise<{ done: StoredReview } | { now: NearDuplicate | undefined }> => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${CONSOLIDATION_LOCK_NAMESPACE}::int, hashtext(${review.projectId}))`);
      const { rows } = await tx.execute<{ review_status: string; created_memory_id: string | null; ingest_round: number }>(
        sql`SELECT review_status, created_memory_id, ingest_round FROM traces WHERE id = ${review.traceId} FOR UPDATE`,
      );
      const trace = rows[0];
      if (!trace) throw new Error(`trace ${review.traceId} no longer exists`);
      if (trace.review_status === 'reviewed' || Number(trace.ingest_round) !== review.round) {
        return { done: { memoryId: trace.created_memory_id, applied: false, qUpdates: [], merged: false } };
      }
      const now = await findNearDuplicate(tx, search);
      if (!sameTwin(now, prepared)) return { now };
      if (!prepared || !lesson) return { done: { ...(await storeMemoryAndApplyReview(tx, { ...base, memory: review.memory })), merged: false } };
      const merged = await mergeMemoryAndApplyReview(tx, { ...base, target: prepared, merged: lesson });
      return 'conflict' in merged ? { now: await findNearDuplicate(tx, search) } : { done: { ...merged, merged: merged.applied } };
    });
    if ('done' in outcome) return outcome.done;
    twin = outcome.now;
  }
  throw new ConsolidationContentionError(review.traceId);
}
