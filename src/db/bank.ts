import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import {
  directives,
  memories,
  memoryEvents,
  mentalModels,
  qValueUpdates,
  skills,
  type DirectiveRow,
  type MemoryEventRow,
  type MemoryRow,
  type MentalModelRow,
  type QValueUpdateRow,
  type SkillRow,
} from './schema.js';

/** What a project holds that a bank file carries. */
export async function bankCounts(db: Db, projectId: string) {
  const [m] = await db.select({ n: count() }).from(memories).where(eq(memories.projectId, projectId));
  const [q] = await db
    .select({ n: count() })
    .from(qValueUpdates)
    .innerJoin(memories, eq(memories.id, qValueUpdates.memoryId))
    .where(eq(memories.projectId, projectId));
  const [e] = await db
    .select({ n: count() })
    .from(memoryEvents)
    .innerJoin(memories, eq(memories.id, memoryEvents.memoryId))
    .where(eq(memories.projectId, projectId));
  const [mm] = await db.select({ n: count() }).from(mentalModels).where(eq(mentalModels.projectId, projectId));
  const [d] = await db.select({ n: count() }).from(directives).where(eq(directives.projectId, projectId));
  const [s] = await db.select({ n: count() }).from(skills).where(eq(skills.projectId, projectId));
  return { memories: m!.n, history: q!.n + e!.n, mental_models: mm!.n, directives: d!.n, skills: s!.n };
}

/** The models (and dimensions) of a project's memory vectors. */
export async function memoryEmbeddingModels(db: Db, projectId: string): Promise<{ model: string; dimensions: number }[]> {
  const rows = await db.execute<{ model: string; dimensions: number }>(
    sql`select embedding_model as model, vector_dims(embedding) as dimensions from memories where project_id = ${projectId} group by 1, 2`,
  );
  return rows.rows.map((r) => ({ model: r.model, dimensions: Number(r.dimensions) }));
}

/** One page of a project's memories in id order (keyset), vectors included. */
export async function memoryPage(db: Db, projectId: string, afterId: string | null, limit: number): Promise<MemoryRow[]> {
  return db
    .select()
    .from(memories)
    .where(and(eq(memories.projectId, projectId), afterId ? gt(memories.id, afterId) : undefined))
    .orderBy(asc(memories.id))
    .limit(limit);
}

/** The Q-updates and other events of some memories, each oldest first. */
export async function historyOf(db: Db, memoryIds: string[]): Promise<{ updates: QValueUpdateRow[]; events: MemoryEventRow[] }> {
  if (memoryIds.length === 0) return { updates: [], events: [] };
  const updates = await db.select().from(qValueUpdates).where(inArray(qValueUpdates.memoryId, memoryIds)).orderBy(asc(qValueUpdates.createdAt), asc(qValueUpdates.id));
  const events = await db.select().from(memoryEvents).where(inArray(memoryEvents.memoryId, memoryIds)).orderBy(asc(memoryEvents.createdAt), asc(memoryEvents.id));
  return { updates, events };
}

export async function projectBankRest(db: Db, projectId: string): Promise<{ mentalModels: MentalModelRow[]; directives: DirectiveRow[]; skills: SkillRow[] }> {
  const mm = await db.select().from(mentalModels).where(eq(mentalModels.projectId, projectId)).orderBy(asc(mentalModels.createdAt), asc(mentalModels.id));
  const d = await db.select().from(directives).where(eq(directives.projectId, projectId)).orderBy(asc(directives.createdAt), asc(directives.id));
  const s = await db.select().from(skills).where(eq(skills.projectId, projectId)).orderBy(asc(skills.version));
  return { mentalModels: mm, directives: d, skills: s };
}

/** Which of these memory / directive ids are already taken (in any project). */
export async function takenIds(db: Db, table: 'memories' | 'directives', ids: string[]): Promise<Set<string>> {
  const t = table === 'memories' ? memories : directives;
  const taken = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db.select({ id: t.id }).from(t).where(inArray(t.id, ids.slice(i, i + 1000)));
    rows.forEach((r) => taken.add(r.id));
  }
  return taken;
}

export interface BankRows {
  memories: (typeof memories.$inferInsert)[];
  memoryEvents: (typeof memoryEvents.$inferInsert)[];
  mentalModels: (typeof mentalModels.$inferInsert)[];
  directives: (typeof directives.$inferInsert)[];
  skills: (typeof skills.$inferInsert)[];
}

const CHUNK = 200;

/**
 * Writes a whole bank into an empty project in one transaction: all of it or (on any error,
 * including another writer filling the project meanwhile) nothing.
 */
export async function insertBank(db: Db, projectId: string, rows: BankRows, onProgress?: (written: number) => void): Promise<'ok' | 'not_empty'> {
  return db.transaction(async (tx) => {
    // Serializes imports into one project; the emptiness check below then holds until commit.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bank-import:${projectId}`}))`);
    // One statement: a transaction has one connection, which runs one query at a time.
    const held = await tx.execute<{ held: boolean }>(sql`select
        exists (select 1 from memories where project_id = ${projectId})
        or exists (select 1 from mental_models where project_id = ${projectId})
        or exists (select 1 from directives where project_id = ${projectId})
        or exists (select 1 from skills where project_id = ${projectId}) as held`);
    if (held.rows[0]!.held) return 'not_empty';
    let written = 0;
    const insert = async <T>(table: Parameters<typeof tx.insert>[0], values: T[]) => {
      for (let i = 0; i < values.length; i += CHUNK) {
        const chunk = values.slice(i, i + CHUNK);
        await tx.insert(table).values(chunk as never);
        written += chunk.length;
        onProgress?.(written);
      }
    };
    await insert(memories, rows.memories);
    await insert(memoryEvents, rows.memoryEvents);
    await insert(mentalModels, rows.mentalModels);
    await insert(directives, rows.directives);
    await insert(skills, rows.skills);
    return 'ok';
  });
}
