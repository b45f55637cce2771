import type { Db } from '../db/client.js';
import {
  lockMemoriesUpdatedBy,
  lockTraceForOverride,
  qChainFrom,
  replaceWithHumanReview,
  writeCorrectedChain,
  type HumanReview,
} from '../db/reviewOverride.js';
import { correctedQ, replayFrom } from './qReplay.js';

export type { HumanReview } from '../db/reviewOverride.js';

/** One memory's correction, as its `review_override` event records it. */
export interface MemoryCorrection {
  memoryId: string;
  qBefore: number;
  qAfter: number;
  laterUpdates: number;
}

export type OverrideOutcome =
  /** Not a judge's review, or already overridden: the caller answers 409. */
  | { overridden: false }
  | {
      overridden: true;
      trace: { id: string; ingestRound: number };
      /** A job must run for the new round: the review still to apply, or the lesson to rewrite. */
      enqueue: boolean;
      /** `replaced`: the judge's review had not been applied yet; `corrected`: its Q-updates were. */
      mode: 'replaced' | 'corrected';
      verdictChanged: boolean;
      corrections: MemoryCorrection[];
    };

const rewardOf = (result: string | null) => (result === 'pass' ? 1 : 0);

/**
 * A human review replacing the judge's, exactly once, in one transaction that starts by locking
 * the trace (so two overrides, or an override and the job applying the judge's review, run one
 * after the other and the second sees what the first did):
 *
 * - judge's review not applied yet: the review is replaced and a new ingest round queued (the
 *   old round's job then writes nothing, see storeMemoryAndApplyReview);
 * - applied: every memory it updated is locked (id order, as every Q-update locks them), its
 *   update is replaced by the human's in the memory's chain and the later updates replayed on
 *   it (see qReplay.ts); the memory's Q is corrected and a `review_override` event recorded. If
 *   the verdict changed, a new round is queued for the REWRITE step (the lesson from the human
 *   verdict); otherwise the memory the judge's review made is kept.
 */
export async function overrideJudgeReview(db: Db, projectId: string, traceId: string, review: HumanReview): Promise<OverrideOutcome> {
  return db.transaction(async (tx): Promise<OverrideOutcome> => {
    const trace = await lockTraceForOverride(tx, projectId, traceId);
    if (!trace || trace.reviewSource !== 'judge' || trace.overriddenAt || !trace.reviewResult) return { overridden: false };
    const verdictChanged = trace.reviewResult !== review.result;

    if (trace.reviewStatus !== 'reviewed') {
      const row = await replaceWithHumanReview(tx, traceId, review, true);
      return { overridden: true, trace: row, enqueue: true, mode: 'replaced', verdictChanged, corrections: [] };
    }

    const human = { reward: rewardOf(review.result), alpha: review.alpha };
    const corrections: MemoryCorrection[] = [];
    for (const memory of await lockMemoriesUpdatedBy(tx, traceId)) {
      const chain = await qChainFrom(tx, memory.id, traceId);
      const k = chain.findIndex((row) => row.traceId === traceId); // 0: the chain starts at the judge's update
      if (k < 0) continue;
      const judged = chain[k]!;
      const replayed = replayFrom(chain, k, human);
      const qValue = correctedQ(memory.qValue, replayed);
      const laterUpdates = chain.length - 1 - k;
      await writeCorrectedChain(tx, {
        memoryId: memory.id,
        traceId,
        replaced: {
          id: judged.id,
          ...human,
          overridden: { reward: judged.reward, alpha: judged.alpha, q_before: judged.qBefore, q_after: judged.qAfter },
        },
        rows: replayed.rows,
        qValue,
        reviewerKeyId: review.reviewerKeyId,
        detail: {
          trace_id: traceId,
          q_before: memory.qValue,
          q_after: qValue,
          judge: { result: trace.reviewResult, reward: judged.reward, alpha: judged.alpha },
          human: { result: review.result, reward: human.reward, alpha: human.alpha },
          later_updates: laterUpdates,
        },
      });
      corrections.push({ memoryId: memory.id, qBefore: memory.qValue, qAfter: qValue, laterUpdates });
    }
    const row = await replaceWithHumanReview(tx, traceId, review, verdictChanged);
    return { overridden: true, trace: row, enqueue: verdictChanged, mode: 'corrected', verdictChanged, corrections };
  });
}
