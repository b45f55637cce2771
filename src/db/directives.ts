import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { directives, type DirectiveRow } from './schema.js';

export type NewDirective = typeof directives.$inferInsert;

const byId = (projectId: string, id: string) => and(eq(directives.projectId, projectId), eq(directives.id, id));

export async function insertDirective(db: Db, values: NewDirective): Promise<DirectiveRow> {
  const [row] = await db.insert(directives).values(values).returning();
  return row!;
}

export async function getDirective(db: Db, projectId: string, id: string): Promise<DirectiveRow | undefined> {
  const [row] = await db.select().from(directives).where(byId(projectId, id));
  return row;
}

/** Highest priority first, then oldest; `tagCondition` is on the column `directives.tags`. */
export async function listDirectives(
  db: Db,
  projectId: string,
  filter: { activeOnly: boolean; tagCondition?: SQL; limit: number; offset: number },
): Promise<DirectiveRow[]> {
  return db
    .select()
    .from(directives)
    .where(and(eq(directives.projectId, projectId), filter.activeOnly ? eq(directives.isActive, true) : undefined, filter.tagCondition))
    .orderBy(desc(directives.priority), asc(directives.createdAt), asc(directives.id))
    .limit(filter.limit)
    .offset(filter.offset);
}

export async function updateDirective(
  db: Db,
  projectId: string,
  id: string,
  changes: Partial<Omit<NewDirective, 'projectId' | 'id'>>,
): Promise<DirectiveRow | undefined> {
  const [row] = await db
    .update(directives)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(byId(projectId, id))
    .returning();
  return row;
}

export async function deleteDirective(db: Db, projectId: string, id: string): Promise<DirectiveRow | undefined> {
  const [row] = await db.delete(directives).where(byId(projectId, id)).returning();
  return row;
}
