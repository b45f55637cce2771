import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureProject, ensureUser } from '../../src/db/accounts.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { storeMemoryAndApplyReview, type ReflectionMemory } from '../../src/db/learning.js';
import { deleteMemory, insertMemory } from '../../src/db/memories.js';
import { runMigrations } from '../../src/db/migrate.js';
import { memories, qValueUpdates, traces } from '../../src/db/schema.js';
import { insertTrace } from '../../src/db/traces.js';

// The end of the learning loop is one SQL statement; these pin down what it writes, and that a
// second run for the same trace (a retried or duplicated job) writes nothing.
let database: Database;
let projectId: string;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://' });
  await runMigrations(database.pool);
  projectId = (await ensureProject(database.db, await ensureUser(database.db, 'learner'), 'loop')).id;
});
afterAll(async () => database?.close());

const reflection: ReflectionMemory = {
  task: 'Count the orders of March',
  reflection: 'Bound the month on both sides.',
  success: false,
  summary: 'Counted too many orders.',
  keyMistake: "No upper bound on created_at, so April's orders were counted too.",
  correctAction: "Add created_at < '2026-04-01'.",
  guidance: 'Bound date ranges on both sides.',
  applicableTools: ['run_sql', 'it\'s "quoted", {braced}'],
  toolsUsed: ['run_sql'],
  metadata: { tags: ['sql'], nested: { store: 7 } },
  tags: ['sql'],
  reflectionSource: 'llm',
  embedding: [0.6, 0.8, 0, 0],
  embeddingModel: 'test:4d',
};

async function reviewedTrace(retrievedMemoryIds: string[] = []): Promise<string> {
  const trace = await insertTrace(database.db, {
    projectId,
    task: reflection.task,
    trajectory: [{ role: 'assistant', content: '1200' }],
    finalResponse: '1200',
    ingestStatus: 'processing',
    reviewResult: 'fail',
    reviewAlpha: 0.5,
    reviewedAt: new Date(),
    retrievedMemoryIds,
  });
  return trace.id;
}

async function memoryOf(traceId: string) {
  return database.db.select().from(memories).where(eq(memories.sourceTraceId, traceId));
}

describe('storeMemoryAndApplyReview', () => {
  it('stores the memory as given, applies the Q-updates with history, and finishes the trace', async () => {
    const used = await insertMemory(database.db, { projectId, task: 'earlier', reflection: 'r', embedding: [1, 0, 0, 0], embeddingModel: 'test:4d' });
    const traceId = await reviewedTrace([used.id]);

    const outcome = await storeMemoryAndApplyReview(database.db, { traceId, round: 0, memory: reflection, retrievedMemoryIds: [used.id], reward: 0, alpha: 0.5 });

    expect(outcome.applied).toBe(true);
    expect(outcome.qUpdates).toEqual([{ memoryId: used.id, before: 0.5, after: 0.25 }]);
    const [stored] = await memoryOf(traceId);
    expect(stored).toMatchObject({ ...reflection, id: outcome.memoryId, projectId, qValue: 0.5, factType: 'experience', evidenceCount: 1, sourceTraceIds: [traceId] });
    const [trace] = await database.db.select().from(traces).where(eq(traces.id, traceId));
    expect(trace).toMatchObject({ reviewStatus: 'reviewed', ingestStatus: 'completed', createdMemoryId: outcome.memoryId });
    const history = await database.db.select().from(qValueUpdates).where(eq(qValueUpdates.traceId, traceId));
    expect(history).toMatchObject([{ memoryId: used.id, qBefore: 0.5, qAfter: 0.25, reward: 0, alpha: 0.5 }]);
  });

  it('writes nothing the second time, even after the memory was deleted', async () => {
    const used = await insertMemory(database.db, { projectId, task: 'used', reflection: 'r', embedding: [0, 1, 0, 0], embeddingModel: 'test:4d' });
    const traceId = await reviewedTrace([used.id]);
    const input = { traceId, round: 0, memory: reflection, retrievedMemoryIds: [used.id], reward: 1, alpha: 0.5 };
    const first = await storeMemoryAndApplyReview(database.db, input);

    const second = await storeMemoryAndApplyReview(database.db, input);
    expect(second).toEqual({ memoryId: first.memoryId, applied: false, qUpdates: [] });
    await deleteMemory(database.db, projectId, first.memoryId!);
    const third = await storeMemoryAndApplyReview(database.db, input);

    expect(third.applied).toBe(false);
    expect(await memoryOf(traceId)).toEqual([]);
    const [usedNow] = await database.db.select().from(memories).where(eq(memories.id, used.id));
    expect(usedNow!.qValue).toBe(0.75);
    expect(await database.db.select().from(qValueUpdates).where(eq(qValueUpdates.traceId, traceId))).toHaveLength(1);
  });

  it('writes nothing for a round that was superseded (a human override replaced the review), and marks the judge’s Q-updates as such', async () => {
    const used = await insertMemory(database.db, { projectId, task: 'used', reflection: 'r', embedding: [0, 1, 0, 0], embeddingModel: 'test:4d' });
    const traceId = await reviewedTrace([used.id]);
    await database.db.update(traces).set({ ingestRound: 1, reviewSource: 'judge' }).where(eq(traces.id, traceId));
    const stale = await storeMemoryAndApplyReview(database.db, { traceId, round: 0, memory: reflection, retrievedMemoryIds: [used.id], reward: 1, alpha: 0.5 });
    expect(stale).toEqual({ memoryId: null, applied: false, qUpdates: [] });
    expect(await memoryOf(traceId)).toEqual([]);
    expect(await database.db.select().from(qValueUpdates).where(eq(qValueUpdates.traceId, traceId))).toEqual([]);
    const [trace] = await database.db.select().from(traces).where(eq(traces.id, traceId));
    expect(trace!.reviewStatus).toBe('pending');

    const current = await storeMemoryAndApplyReview(database.db, { traceId, round: 1, memory: reflection, retrievedMemoryIds: [used.id], reward: 1, alpha: 0.5 });
    expect(current.applied).toBe(true);
    const rows = await database.db.select().from(qValueUpdates).where(eq(qValueUpdates.traceId, traceId));
    expect(rows.map((r) => [r.reviewSource, r.qAfter])).toEqual([['judge', 0.75]]);
  });

  it('fails for a trace that no longer exists, and stores nothing', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(storeMemoryAndApplyReview(database.db, { traceId: missing, round: 0, memory: reflection, retrievedMemoryIds: [], reward: 1, alpha: 0.3 })).rejects.toThrow(
      /no longer exists/,
    );
    expect(await memoryOf(missing)).toEqual([]);
  });
});
