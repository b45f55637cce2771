import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/benchLearning/scenarios.js';
import { correctedQ, qUpdate, replayFrom, type ChainRow } from '../../src/judge/qReplay.js';

/** A chain as the learning statement writes it: each update starts from the previous one's result. */
function chainOf(updates: { reward: number; alpha: number }[], start = 0.5): ChainRow[] {
  let q = start;
  return updates.map((u, i) => {
    const before = q;
    q = qUpdate(before, u.reward, u.alpha);
    return { id: `row-${i}`, qBefore: before, qAfter: q, ...u };
  });
}

describe('replaying a Q chain with one update replaced', () => {
  it('equals replaying the whole history from scratch with the new update in its place (random chains)', () => {
    const random = seededRandom(42);
    for (let trial = 0; trial < 500; trial++) {
      const updates = Array.from({ length: 1 + Math.floor(random() * 30) }, () => ({
        reward: random() < 0.5 ? 1 : 0,
        alpha: [0.05, 0.1, 0.3, 0.5, 0.9, 1][Math.floor(random() * 6)]!,
      }));
      const k = Math.floor(random() * updates.length);
      const human = { reward: random() < 0.5 ? 1 : 0, alpha: 0.05 + random() * 0.9 };
      const chain = chainOf(updates);
      const replayed = replayFrom(chain, k, human);

      const fromScratch = chainOf(updates.map((u, i) => (i === k ? human : u)));
      expect(replayed.rows.map((r) => [r.qBefore, r.qAfter])).toEqual(fromScratch.slice(k).map((r) => [r.qBefore, r.qAfter]));
      expect(replayed.rows[0]!.id).toBe(`row-${k}`);
      expect(correctedQ(chain.at(-1)!.qAfter, replayed)).toBe(fromScratch.at(-1)!.qAfter);
    }
  });

  it('moves a q that left the chain (set outside it) by the chain end’s change, which is the first change times ∏(1 − α) of the later updates', () => {
    const updates = [
      { reward: 1, alpha: 0.1 },
      { reward: 0, alpha: 0.3 },
      { reward: 1, alpha: 0.5 },
    ];
    const chain = chainOf(updates);
    const replayed = replayFrom(chain, 0, { reward: 0, alpha: 0.4 });
    const firstChange = replayed.rows[0]!.qAfter - chain[0]!.qAfter;
    expect(replayed.lastAfter - replayed.lastBefore).toBeCloseTo(firstChange * (1 - 0.3) * (1 - 0.5), 15);
    expect(correctedQ(0.9, replayed)).toBeCloseTo(0.9 + (replayed.lastAfter - replayed.lastBefore), 15);
    // Never outside [0, 1].
    expect(correctedQ(0.01, { lastBefore: 0.8, lastAfter: 0.2 })).toBe(0);
  });
});
