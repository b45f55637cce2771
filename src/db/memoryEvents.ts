import { and, asc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import type { NewMemory } from './memories.js';
import { memories, memoryEvents, qValueUpdates, type MemoryEventRow, type MemoryRow, type QValueUpdateRow } from './schema.js';

/** Who made a change over the API: the key's row id and its label at the time. */
export interface Actor {
  keyId: string;
  label: string;
}

/** A memory's history entry: a Q-update of the learning loop or one of its other changes. */
export type HistoryEntry = { kind: 'q_update'; at: Date; row: QValueUpdateRow } | { kind: MemoryEventRow['kind']; at: Date; row: MemoryEventRow };

/** Fields an edit may change that are worth keeping in the history as they were (not the vector). */
const RECORDED_FIELDS = [
  'task',
  'reflection',
  'metadata',
  'tags',
  'factType',
  'summary',
  'keyMistake',
  'correctAction',
  'guidance',
  'applicableTools',
  'toolsUsed',
  'expiresAt',
] as const satisfies readonly (keyof MemoryRow)[];

const SNAKE: Record<(typeof RECORDED_FIELDS)[number], string> = {
  task: 'task',
  reflection: 'reflection',
  metadata: 'metadata',
  tags: 'tags',
  factType: 'fact_type',
  summary: 'summary',
  keyMistake: 'key_mistake',
  correctAction: 'correct_action',
  guidance: 'guidance',
  applicableTools: 'applicable_tools',
  toolsUsed: 'tools_used',
  expiresAt: 'expires_at',
};

const comparable = (v: unknown) => JSON.stringify(v instanceof Date ? v.toISOString() : (v ?? null));

/**
 * Edits a memory and records which fields changed, before and after, in one transaction (the
 * row is locked, so two edits cannot both record the same "before"). No event when nothing changed.
 */
export async function editMemory(
  db: Db,
  projectId: string,
  id: string,
  changes: Partial<NewMemory>,
  actor: Actor,
): Promise<MemoryRow | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(memories)
      .where(and(eq(memories.id, id), eq(memories.projectId, projectId)))
      .for('update');
    if (!current) return undefined;
    const fields: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of RECORDED_FIELDS) {
      const next = changes[field];
      if (next === undefined || comparable(next) === comparable(current[field])) continue;
      fields[SNAKE[field]] = { from: JSON.parse(comparable(current[field])), to: JSON.parse(comparable(next)) };
    }
    const [row] = await tx
      .update(memories)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(eq(memories.id, id))
      .returning();
    if (Object.keys(fields).length > 0) {
      await tx.insert(memoryEvents).values({ memoryId: id, kind: 'edit', ...by(actor), qValue: current.qValue, detail: { fields } });
    }
    return row;
  });
}

export type ValidityChange = { row: MemoryRow } | { conflict: 'already_invalid' | 'not_invalid' } | undefined;

/** Marks a live memory invalid (never retrieved again until restored), recording reason and who. */
export async function invalidateMemory(db: Db, projectId: string, id: string, reason: string, actor: Actor): Promise<ValidityChange> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(memories)
      .set({
        invalidatedAt: sql`now()`,
        invalidReason: reason,
        invalidatedByKeyId: actor.keyId,
        invalidatedByLabel: actor.label,
        updatedAt: sql`now()`,
      })
      .where(and(eq(memories.id, id), eq(memories.projectId, projectId), isNull(memories.invalidatedAt)))
      .returning();
    if (!row) return (await exists(tx, projectId, id)) ? { conflict: 'already_invalid' as const } : undefined;
    await tx.insert(memoryEvents).values({ memoryId: id, kind: 'invalidate', ...by(actor), qValue: row.qValue, detail: { reason } });
    return { row };
  });
}

/** Makes an invalid memory live again; the history keeps the reason it had been invalidated for. */
export async function restoreMemory(db: Db, projectId: string, id: string, reason: string | null, actor: Actor): Promise<ValidityChange> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ reason: memories.invalidReason })
      .from(memories)
      .where(and(eq(memories.id, id), eq(memories.projectId, projectId), isNotNull(memories.invalidatedAt)))
      .for('update');
    if (!before) return (await exists(tx, projectId, id)) ? { conflict: 'not_invalid' as const } : undefined;
    const [row] = await tx
      .update(memories)
      .set({ invalidatedAt: null, invalidReason: null, invalidatedByKeyId: null, invalidatedByLabel: null, updatedAt: sql`now()` })
      .where(eq(memories.id, id))
      .returning();
    await tx.insert(memoryEvents).values({
      memoryId: id,
      kind: 'restore',
      ...by(actor),
      qValue: row!.qValue,
      detail: { reason, invalidated_for: before.reason },
    });
    return { row: row! };
  });
}

/** Every change to one memory, oldest first: its Q-updates and its other events, interleaved. */
export async function memoryHistoryEntries(db: Db, memoryId: string): Promise<HistoryEntry[]> {
  const [updates, events] = await Promise.all([
    db.select().from(qValueUpdates).where(eq(qValueUpdates.memoryId, memoryId)).orderBy(asc(qValueUpdates.createdAt), asc(qValueUpdates.id)),
    db.select().from(memoryEvents).where(eq(memoryEvents.memoryId, memoryId)).orderBy(asc(memoryEvents.createdAt), asc(memoryEvents.id)),
  ]);
  const entries: HistoryEntry[] = [
    ...updates.map((row) => ({ kind: 'q_update' as const, at: row.createdAt, row })),
    ...events.map((row) => ({ kind: row.kind, at: row.createdAt, row })),
  ];
  // A stable sort keeps each source's own order among equal timestamps.
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime());
}

function by(actor: Actor) {
  return { actorKeyId: actor.keyId, actorLabel: actor.label };
}

async function exists(db: Pick<Db, 'select'>, projectId: string, id: string): Promise<boolean> {
  const [row] = await db
    .select({ id: memories.id })
    .from(memories)
    .where(and(eq(memories.id, id), eq(memories.projectId, projectId)));
  return row !== undefined;
}
