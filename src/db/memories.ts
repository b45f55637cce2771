import { and, asc, count, desc, eq } from 'drizzle-orm';
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
  page: { limit: number; offset: number; sort: 'created_at' | 'q_value'; order: 'asc' | 'desc' },
): Promise<{ rows: MemoryRow[]; total: number }> {
  const column = page.sort === 'q_value' ? memories.qValue : memories.createdAt;
  const direction = page.order === 'asc' ? asc : desc;
  const where = eq(memories.projectId, projectId);
  const [rows, [total]] = await Promise.all([
    db.select().from(memories).where(where).orderBy(direction(column), direction(memories.id)).limit(page.limit).offset(page.offset),
    db.select({ n: count() }).from(memories).where(where),
  ]);
  return { rows, total: total!.n };
}
