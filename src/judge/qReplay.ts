/**
 * The exact correction of a memory's Q when one update of its history is replaced (a human
 * override of the judge's verdict).
 *
 * Each update is affine in q: q ← q + α(r − q) = (1 − α)q + αr. Replacing update k changes its
 * result; every later update maps its input through the same affine functions as before, so
 * replaying the rows after k on the new value gives exactly what the whole history would have
 * given with the new update in k's place. The memory's q then moves by the same amount as the
 * chain's last value (q_now + (last' − last)); when q_now is the chain's last value (always,
 * unless something outside the chain set q) that is simply last'.
 */

/** One Q-update as the learning statement applies it (the same operations in the same order, clamped to [0, 1]). */
export function qUpdate(q: number, reward: number, alpha: number): number {
  return Math.min(1, Math.max(0, q + alpha * (reward - q)));
}

export interface ChainRow {
  id: string;
  qBefore: number;
  qAfter: number;
  reward: number;
  alpha: number;
}

export interface ReplayedChain {
  /** Rows k… with their new q_before/q_after (row k first). */
  rows: { id: string; qBefore: number; qAfter: number }[];
  /** The chain's last q_after before and after the correction. */
  lastBefore: number;
  lastAfter: number;
}

/** Replaces row `k`'s reward and alpha and replays every later row on the new value. */
export function replayFrom(chain: ChainRow[], k: number, replacement: { reward: number; alpha: number }): ReplayedChain {
  const rows: ReplayedChain['rows'] = [];
  const start = chain[k]!.qBefore;
  let q = qUpdate(start, replacement.reward, replacement.alpha);
  rows.push({ id: chain[k]!.id, qBefore: start, qAfter: q });
  for (let i = k + 1; i < chain.length; i++) {
    const row = chain[i]!;
    const before = q;
    q = qUpdate(before, row.reward, row.alpha);
    rows.push({ id: row.id, qBefore: before, qAfter: q });
  }
  return { rows, lastBefore: chain.at(-1)!.qAfter, lastAfter: q };
}

/** The memory's new Q: the chain's new end when q_now is its old end, else q_now moved by the same amount. */
export function correctedQ(qNow: number, replayed: Pick<ReplayedChain, 'lastBefore' | 'lastAfter'>): number {
  if (qNow === replayed.lastBefore) return replayed.lastAfter;
  return Math.min(1, Math.max(0, qNow + (replayed.lastAfter - replayed.lastBefore)));
}
