import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/benchLearning/scenarios.js';
import { createMemory, uniqueTask, useLoopApp, useSharedDatabase } from '../support/learning.js';
import { transports } from '../support/redis.js';
import { chainOf, expectConsistentChain, expectQ, judgedTask, judgedTrace, postReview, qOf, replay, settled } from './overrideSupport.js';
import { judgeProject, RUBRIC, submit, traceWhen } from './support.js';

const database = useSharedDatabase();
const DEFAULT_ALPHA = 0.2;

/** What the test expects of one memory: its updates in order, each named by its trace. */
type Model = Map<string, { traceId: string; reward: number; alpha: number; source: 'human' | 'judge' }[]>;

/**
 * Random histories, one operation at a time (each waits until its work is done, so the order the
 * memories saw the updates in is known): judge reviews with changing judge alphas, human reviews
 * of other traces on the same memories, and overrides of earlier judge reviews (changed verdict
 * or not, with or without an alpha). Each memory must end at exactly what replaying its whole
 * history from 0.5 gives with every overriding human verdict in its judge's place.
 */
describe.each(transports())('human overrides replayed against random histories ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, { env: { Q_LEARNING_ALPHA: String(DEFAULT_ALPHA) }, database });

  it.each([
    { seed: 7, ops: 40 },
    { seed: 2026, ops: 40 },
    { seed: 31337, ops: 40 },
  ])('seed $seed: every memory ends where the corrected history leads, to 1e-12', async ({ seed, ops }) => {
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const project = `override-replay-${transport}-${seed}`;
    await judgeProject(f, project, { enabled: true, rubric: RUBRIC, alpha: 0.1 });
    const memories = [
      await createMemory(f, uniqueTask('Replay memory A'), project),
      await createMemory(f, uniqueTask('Replay memory B'), project),
      await createMemory(f, uniqueTask('Replay memory C'), project),
    ];
    const model: Model = new Map(memories.map((m) => [m, []]));
    const judged: { id: string; verdict: 'pass' | 'fail'; traceAlpha: number | undefined; retrieved: string[]; overridden: boolean }[] = [];
    const kinds = { judge: 0, human: 0, override: 0, changed: 0, refused: 0 };

    for (let op = 0; op < ops; op++) {
      const retrieved = memories.filter(() => random() < 0.6);
      if (retrieved.length === 0) retrieved.push(pick(memories));
      const roll = random();
      const open = judged.filter((j) => !j.overridden);
      if (roll < 0.45 || open.length === 0) {
        // A judge review, with the judge's alpha changed now and then.
        const judgeAlpha = pick([0.05, 0.1, 0.3, 0.5]);
        await judgeProject(f, project, { alpha: judgeAlpha });
        const verdict = random() < 0.5 ? 'pass' : 'fail';
        const traceAlpha = random() < 0.3 ? pick([0.15, 0.4]) : undefined;
        const trace = await judgedTrace(f, project, {
          task: judgedTask(`Replay ${seed}/${op}`, verdict),
          retrieved_memory_ids: retrieved,
          ...(traceAlpha !== undefined && { alpha: traceAlpha }),
        });
        expect(trace.review).toMatchObject({ source: 'judge', result: verdict, alpha: judgeAlpha });
        judged.push({ id: trace.id, verdict, traceAlpha, retrieved, overridden: false });
        for (const m of retrieved) model.get(m)!.push({ traceId: trace.id, reward: verdict === 'pass' ? 1 : 0, alpha: judgeAlpha, source: 'judge' });
        kinds.judge++;
      } else if (roll < 0.7) {
        // A human review of another run that used the same memories.
        const result = random() < 0.5 ? 'pass' : 'fail';
        const alpha = pick([0.1, 0.25, 0.6]);
        const { id } = await submit(
          f,
          { task: uniqueTask(`Human ${seed}/${op}`), trajectory: [{ role: 'assistant', content: 'x' }], retrieved_memory_ids: retrieved, review_result: result, alpha },
          project,
        );
        await traceWhen(f, id, project, (t) => t.review_status === 'reviewed');
        for (const m of retrieved) model.get(m)!.push({ traceId: id, reward: result === 'pass' ? 1 : 0, alpha, source: 'human' });
        kinds.human++;
      } else {
        // A human overrides an earlier judge review.
        const target = pick(open);
        const result = random() < 0.5 ? target.verdict : target.verdict === 'pass' ? 'fail' : 'pass';
        const givenAlpha = random() < 0.5 ? pick([0.2, 0.35, 0.7]) : undefined;
        const res = await postReview(f, target.id, project, { result, feedback_text: `Checked by hand (${op})`, ...(givenAlpha !== undefined && { alpha: givenAlpha }) });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().review).toMatchObject({ source: 'human', result });
        const alpha = givenAlpha ?? target.traceAlpha ?? DEFAULT_ALPHA;
        target.overridden = true;
        for (const m of target.retrieved) {
          const entry = model.get(m)!.find((u) => u.traceId === target.id)!;
          Object.assign(entry, { reward: result === 'pass' ? 1 : 0, alpha, source: 'human' });
        }
        kinds.override++;
        if (result !== target.verdict) kinds.changed++;
        // Once only: a second human review of the same trace is refused and changes nothing.
        const again = await postReview(f, target.id, project, { result: 'pass', alpha: 0.9 });
        expect(again.statusCode).toBe(409);
        kinds.refused++;
        await settled(f);
      }
    }
    await settled(f);

    for (const m of memories) {
      const expected = model.get(m)!;
      const chain = await expectConsistentChain(f, m);
      expect(chain.map((r) => [r.trace_id, r.reward, r.alpha, r.review_source])).toEqual(expected.map((u) => [u.traceId, u.reward, u.alpha, u.source]));
      expectQ(await qOf(f, m), replay(expected));
    }
    // Every kind of step happened (so the history is not trivially short).
    expect(kinds.judge).toBeGreaterThan(3);
    expect(kinds.human).toBeGreaterThan(2);
    expect(kinds.override).toBeGreaterThan(2);
    expect(kinds.changed).toBeGreaterThan(0);
    // Each overridden row keeps the judge's original figures.
    for (const j of judged.filter((x) => x.overridden)) {
      for (const m of j.retrieved) {
        const row = (await chainOf(f, m)).find((r) => r.trace_id === j.id)!;
        expect(row.overridden).toMatchObject({ reward: j.verdict === 'pass' ? 1 : 0 });
      }
    }
  });
});
