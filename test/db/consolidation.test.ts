import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureProject, ensureUser } from '../../src/db/accounts.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { findNearDuplicate, mergeMemoryAndApplyReview, type MergedLesson } from '../../src/db/consolidation.js';
import { insertMemory } from '../../src/db/memories.js';
import { runMigrations } from '../../src/db/migrate.js';
import { memories, memoryEvents, qValueUpdates, traces } from '../../src/db/schema.js';
import { insertTrace } from '../../src/db/traces.js';

// The merge is one SQL statement like the insert it stands in for: these pin down what it
// writes, that a second run for the same trace writes nothing, and that a target that changed
// since the merged text was written makes it write nothing at all.
let database: Database;
let projectId: string;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://' });
  await runMigrations(database.pool);
  projectId = (await ensureProject(database.db, await ensureUser(database.db, 'merger'), 'merge')).id;
});
afterAll(async () => database?.close());

const lesson: MergedLesson = {
  reflection: 'Bound the month on both sides; both runs needed it.',
  summary: 'Monthly counts',
  keyMistake: '',
  correctAction: 'Add an upper bound.',
  guidance: 'Bound date ranges.',
  applicableTools: ['run_sql'],
  toolsUsed: ['run_sql'],
  source: 'llm',
};

async function pendingTrace(retrievedMemoryIds: string[] = []): Promise<string> {
  const trace = await insertTrace(database.db, {
    projectId,
    task: 'Count the orders of March',
    trajectory: [],
    finalResponse: '42',
    ingestStatus: 'processing',
    reviewResult: 'pass',
    reviewAlpha: 0.5,
    reviewedAt: new Date(),
    retrievedMemoryIds,
  });
  return trace.id;
}

async function storedMemory(extra: Partial<typeof memories.$inferInsert> = {}) {
  const first = await pendingTrace();
  return insertMemory(database.db, {
    projectId,
    task: 'Count the orders of March',
    reflection: 'Bound the month.',
    success: true,
    qValue: 0.8,
    embedding: [1, 0, 0, 0],
    embeddingModel: 'test:4d',
    sourceTraceId: first,
    sourceTraceIds: [first],
    ...extra,
  });
}

const memoryRow = async (id: string) => (await database.db.select().from(memories).where(eq(memories.id, id)))[0]!;
const traceRow = async (id: string) => (await database.db.select().from(traces).where(eq(traces.id, id)))[0]!;

describe('mergeMemoryAndApplyReview', () => {
  it('merges into the target (text, evidence, sources), keeps its Q, records the merge, and finishes the trace', async () => {
    const target = await storedMemory();
    const other = await insertMemory(database.db, { projectId, task: 'other', reflection: 'r', embedding: [0, 1, 0, 0], embeddingModel: 'test:4d' });
    const traceId = await pendingTrace([other.id]);

    const outcome = await mergeMemoryAndApplyReview(database.db, {
      traceId,
      round: 0,
      target: { id: target.id, reflection: target.reflection, evidenceCount: 1, similarity: 0.97 },
      merged: lesson,
      retrievedMemoryIds: [other.id],
      reward: 1,
      alpha: 0.5,
    });

    expect(outcome).toEqual({ memoryId: target.id, applied: true, qUpdates: [{ memoryId: other.id, before: 0.5, after: 0.75 }] });
    expect(await memoryRow(target.id)).toMatchObject({
      reflection: lesson.reflection,
      correctAction: lesson.correctAction,
      reflectionSource: 'llm',
      qValue: 0.8,
      evidenceCount: 2,
      sourceTraceIds: [target.sourceTraceId, traceId],
      sourceTraceId: target.sourceTraceId,
    });
    expect(await traceRow(traceId)).toMatchObject({ reviewStatus: 'reviewed', ingestStatus: 'completed', createdMemoryId: target.id });
    const events = await database.db.select().from(memoryEvents).where(eq(memoryEvents.memoryId, target.id));
    expect(events).toMatchObject([
      { kind: 'merge', traceId, qValue: 0.8, actorKeyId: null, detail: { evidence_count: 2, similarity: 0.97, source: 'llm', reflection_before: 'Bound the month.' } },
    ]);
    expect(await database.db.select().from(memories).where(eq(memories.sourceTraceId, traceId))).toEqual([]);
  });

  it('applies the target’s own Q-update in the same row update when the run retrieved it', async () => {
    const target = await storedMemory();
    const traceId = await pendingTrace([target.id]);
    const outcome = await mergeMemoryAndApplyReview(database.db, {
      traceId,
      round: 0,
      target: { id: target.id, reflection: target.reflection, evidenceCount: 1, similarity: 1 },
      merged: lesson,
      retrievedMemoryIds: [target.id],
      reward: 0,
      alpha: 0.5,
    });
    expect(outcome).toMatchObject({ applied: true, qUpdates: [{ memoryId: target.id, before: 0.8, after: 0.4 }] });
    expect(await memoryRow(target.id)).toMatchObject({ qValue: 0.4, evidenceCount: 2, reflection: lesson.reflection, useCount: 1 });
    const history = await database.db.select().from(qValueUpdates).where(eq(qValueUpdates.memoryId, target.id));
    expect(history).toMatchObject([{ traceId, qBefore: 0.8, qAfter: 0.4, reward: 0, alpha: 0.5 }]);
  });

  it('writes nothing the second time for the same trace', async () => {
    const target = await storedMemory();
    const traceId = await pendingTrace();
    const input = { traceId, round: 0, target: { id: target.id, reflection: target.reflection, evidenceCount: 1, similarity: 1 }, merged: lesson, retrievedMemoryIds: [], reward: 1, alpha: 0.5 };
    await mergeMemoryAndApplyReview(database.db, input);
    const again = await mergeMemoryAndApplyReview(database.db, input);
    expect(again).toEqual({ memoryId: target.id, applied: false, qUpdates: [] });
    expect(await memoryRow(target.id)).toMatchObject({ evidenceCount: 2 });
    expect(await database.db.select().from(memoryEvents).where(eq(memoryEvents.memoryId, target.id))).toHaveLength(1);
  });

  it.each([
    ['its reflection changed', { reflection: 'Edited by someone meanwhile.' }],
    ['its evidence count changed', { evidenceCount: 3 }],
    ['it was invalidated', { invalidatedAt: new Date(), invalidReason: 'wrong' }],
    ['it expired', { expiresAt: new Date(Date.now() - 1000) }],
  ])('writes nothing when the target changed since the merged text was written: %s', async (_label, change) => {
    const target = await storedMemory(change);
    const other = await insertMemory(database.db, { projectId, task: 'used', reflection: 'r', embedding: [0, 0, 1, 0], embeddingModel: 'test:4d' });
    const traceId = await pendingTrace([other.id]);
    const outcome = await mergeMemoryAndApplyReview(database.db, {
      traceId,
      round: 0,
      target: { id: target.id, reflection: 'Bound the month.', evidenceCount: 1, similarity: 1 },
      merged: lesson,
      retrievedMemoryIds: [other.id],
      reward: 1,
      alpha: 0.5,
    });
    expect(outcome).toEqual({ conflict: true });
    expect(await traceRow(traceId)).toMatchObject({ reviewStatus: 'pending', createdMemoryId: null });
    expect(await memoryRow(other.id)).toMatchObject({ qValue: 0.5 });
    expect((await memoryRow(target.id)).reflection).not.toBe(lesson.reflection);
    expect(await database.db.select().from(qValueUpdates).where(eq(qValueUpdates.traceId, traceId))).toEqual([]);
    expect(await database.db.select().from(memoryEvents).where(eq(memoryEvents.traceId, traceId))).toEqual([]);
  });
});

describe('findNearDuplicate', () => {
  it('finds the nearest live memory of the same outcome at or above the threshold only', async () => {
    const own = (await ensureProject(database.db, await ensureUser(database.db, 'merger'), 'near')).id;
    const add = (embedding: number[], extra: Partial<typeof memories.$inferInsert> = {}) =>
      insertMemory(database.db, { projectId: own, task: 't', reflection: 'r', success: true, embedding, embeddingModel: 'test:4d', ...extra });
    const close = await add([0.95, Math.sqrt(1 - 0.95 ** 2), 0, 0]);
    await add([1, 0, 0, 0], { success: false });
    await add([1, 0, 0, 0], { invalidatedAt: new Date() });
    await add([1, 0, 0, 0], { expiresAt: new Date(Date.now() - 1000) });
    await add([1, 0, 0, 0], { factType: 'world' });
    await add([1, 0, 0, 0], { embeddingModel: 'other:4d' });
    const search = { projectId: own, model: 'test:4d', dimensions: 4, vector: [1, 0, 0, 0], success: true };

    const found = await findNearDuplicate(database.db, { ...search, threshold: 0.9 });
    expect(found).toMatchObject({ id: close.id, evidenceCount: 1 });
    expect(found!.similarity).toBeCloseTo(0.95, 6);
    expect(await findNearDuplicate(database.db, { ...search, threshold: 0.96 })).toBeUndefined();
  });
});
