import { describe, expect, it } from 'vitest';
import { createMemory, createTrace, getMemory, uniqueTask, useLoopApp, useSharedDatabase, waitForTrace, type LoopFixture } from '../support/learning.js';
import { transports } from '../support/redis.js';

interface HistoryRow {
  trace_id: string;
  q_before: number;
  q_after: number;
  reward: number;
  alpha: number;
}

const reviews = [
  { result: 'pass', alpha: 0.1 },
  { result: 'fail', alpha: 0.25 },
  { result: 'pass', alpha: 0.5 },
  { result: 'fail', alpha: 0.3 },
  { result: 'success', alpha: 0.15 },
  { result: 'failure', alpha: 0.4 },
  { result: 'pass', alpha: 0.35 },
  { result: 'fail', alpha: 0.2 },
];

async function history(f: LoopFixture, memoryId: string): Promise<HistoryRow[]> {
  const { rows } = await f.t.app.database.pool.query(
    'select trace_id, q_before, q_after, reward, alpha from q_value_updates where memory_id = $1 order by created_at, id',
    [memoryId],
  );
  return rows as HistoryRow[];
}

/**
 * The updates in the order they were applied, found by following q: each one must start from
 * exactly the value the previous one left. Any lost update (two reviews reading the same q)
 * breaks the chain.
 */
function chainFrom(start: number, rows: HistoryRow[]): HistoryRow[] {
  const remaining = [...rows];
  const ordered: HistoryRow[] = [];
  let q = start;
  while (remaining.length > 0) {
    const next = remaining.filter((row) => row.q_before === q);
    expect(next, `one update must continue from q = ${q}`).toHaveLength(1);
    ordered.push(next[0]!);
    remaining.splice(remaining.indexOf(next[0]!), 1);
    q = next[0]!.q_after;
  }
  return ordered;
}

const database = useSharedDatabase();

describe.each(transports())('eight concurrent reviews of traces sharing memories ($transport)', ({ transport }) => {
  // Every job in flight at once, each LLM call slow enough that they overlap.
  const f = useLoopApp(transport, { database, env: { REFLECT_WORKER_CONCURRENCY: '8' } });

  it('compound exactly: every update starts from the previous one’s result', async () => {
    f.fake.latencyMs = 150;
    const m1 = await createMemory(f, uniqueTask('Shared memory one'));
    const m2 = await createMemory(f, uniqueTask('Shared memory two'));
    const traceIds: string[] = [];
    for (let i = 0; i < reviews.length; i++) {
      // Half list the memories in the other order: locks are still taken in one order.
      const retrieved = i % 2 === 0 ? [m1, m2] : [m2, m1];
      traceIds.push(await createTrace(f, { task: uniqueTask(`Concurrent ${i}`), trajectory: [{ role: 'assistant', content: `${i}` }], retrieved_memory_ids: retrieved }));
    }

    const responses = await Promise.all(
      traceIds.map((id, i) => f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: reviews[i] })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(reviews.length).fill(200));
    const traces = await Promise.all(traceIds.map((id) => waitForTrace(f, id)));
    expect(traces.map((tr) => tr.ingest_status)).toEqual(Array(reviews.length).fill('completed'));

    const expected = new Map(
      traceIds.map((id, i) => [id, { reward: /^(pass|success)$/.test(reviews[i]!.result) ? 1 : 0, alpha: reviews[i]!.alpha }]),
    );
    for (const memoryId of [m1, m2]) {
      const rows = await history(f, memoryId);
      expect(rows).toHaveLength(reviews.length);
      expect(new Set(rows.map((r) => r.trace_id))).toEqual(new Set(traceIds));

      const chain = chainFrom(0.5, rows);
      // The history, oldest first, is the order the updates were applied in.
      expect(rows).toEqual(chain);
      for (const row of chain) {
        expect(row).toMatchObject(expected.get(row.trace_id)!);
        expect(Math.abs(row.q_after - (row.q_before + row.alpha * (row.reward - row.q_before)))).toBeLessThan(1e-9);
      }
      const q = (await getMemory(f, memoryId)).q_value as number;
      expect(q).toBe(chain.at(-1)!.q_after);
    }

    // One memory per trace, none of them touched by the others' reviews.
    for (const trace of traces) {
      expect(await getMemory(f, trace.created_memory_id!)).toMatchObject({ q_value: 0.5, source_trace_id: trace.id });
    }
    f.fake.latencyMs = 0;
  });
});
