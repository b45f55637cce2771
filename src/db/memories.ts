import { and, asc, count, desc, eq, ne, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { memories, type MemoryRow } from './schema.js';

export type NewMemory = typeof memories.$inferInsert;

export async function insertMemory(db: Db, values: NewMemory): Promise<MemoryRow> {
  const [row] = await db.insert(memories).values(values).returning();
  return row!;
}

export async function getMemory(db: Db, projectId: string, id: string): Promise<MemoryRow | undefined> {
  const [row] = await db
    .select()
    .from(memories)
    .where(and(eq(memories.id, id), eq(memories.projectId, projectId)));
  return row;
}

export async function listMemories(
  db: Db,
  projectId: string,
  page: { limit: number; offset: number; sort: 'created_at' | 'q_value' | 'last_used_at'; order: 'asc' | 'desc' },
): Promise<{ rows: MemoryRow[]; total: number }> {
  const direction = page.order === 'asc' ? asc : desc;
  const orderBy =
    page.sort === 'last_used_at'
      ? // Never used (null) last in both directions: "least recently used" means used, but long ago.
        [sql`${memories.lastUsedAt} ${sql.raw(page.order === 'asc' ? 'ASC' : 'DESC')} NULLS LAST`, direction(memories.id)]
      : [direction(page.sort === 'q_value' ? memories.qValue : memories.createdAt), direction(memories.id)];
  const where = eq(memories.projectId, projectId);
  const [rows, [total]] = await Promise.all([
    db.select().from(memories).where(where).orderBy(...orderBy).limit(page.limit).offset(page.offset),
    db.select({ n: count() }).from(memories).where(where),
  ]);
  return { rows, total: total!.n };
}

export async function updateMemory(db: Db, projectId: string, id: string, changes: Partial<NewMemory>): Promise<MemoryRow | undefined> {
  const [row] = await db
    .update(memories)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(memories.id, id), eq(memories.projectId, projectId)))
    .returning();
  return row;
}

export async function deleteMemory(db: Db, projectId: string, id: string): Promise<MemoryRow | undefined> {
  const [row] = await db
    .delete(memories)
    .where(and(eq(memories.id, id), eq(memories.projectId, projectId)))
    .returning();
  return row;
}

/** Memories whose vectors are not of `model`, in pages, for re-embedding. */
export async function memoriesNotEmbeddedWith(
  db: Db,
  model: string,
  page: { projectId?: string; limit: number },
): Promise<Pick<MemoryRow, 'id' | 'task'>[]> {
  return db
    .select({ id: memories.id, task: memories.task })
    .from(memories)
    .where(and(ne(memories.embeddingModel, model), page.projectId ? eq(memories.projectId, page.projectId) : undefined))
    .orderBy(asc(memories.id))
    .limit(page.limit);
}

export async function countMemoriesNotEmbeddedWith(db: Db, model: string, projectId?: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(memories)
    .where(and(ne(memories.embeddingModel, model), projectId ? eq(memories.projectId, projectId) : undefined));
  return row!.n;
}

export async function setMemoryEmbedding(db: Db, id: string, embedding: number[], model: string): Promise<void> {
  await db.update(memories).set({ embedding, embeddingModel: model, updatedAt: sql`now()` }).where(eq(memories.id, id));
}

/** Memories of every project (the metrics gauge). */
export async function countAllMemories(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(memories);
  return row!.n;
}
