import { and, asc, count, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { mentalModels, type MentalModelRow } from './schema.js';

export type NewMentalModel = typeof mentalModels.$inferInsert;

const byId = (projectId: string, id: string) => and(eq(mentalModels.projectId, projectId), eq(mentalModels.id, id));

/** Undefined when the id is already taken in the project. */
export async function insertMentalModel(db: Db, values: NewMentalModel): Promise<MentalModelRow | undefined> {
  const [row] = await db.insert(mentalModels).values(values).onConflictDoNothing().returning();
  return row;
}

export async function getMentalModel(db: Db, projectId: string, id: string): Promise<MentalModelRow | undefined> {
  const [row] = await db.select().from(mentalModels).where(byId(projectId, id));
  return row;
}

/** Oldest first; `tagCondition` is on the column `mental_models.tags`. */
export async function listMentalModels(
  db: Db,
  projectId: string,
  page: { limit: number; offset: number; tagCondition?: SQL },
): Promise<MentalModelRow[]> {
  return db
    .select()
    .from(mentalModels)
    .where(and(eq(mentalModels.projectId, projectId), page.tagCondition))
    .orderBy(asc(mentalModels.createdAt), asc(mentalModels.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function updateMentalModel(
  db: Db,
  projectId: string,
  id: string,
  changes: Partial<Omit<NewMentalModel, 'projectId' | 'id'>>,
): Promise<MentalModelRow | undefined> {
  const [row] = await db
    .update(mentalModels)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(byId(projectId, id))
    .returning();
  return row;
}

export async function deleteMentalModel(db: Db, projectId: string, id: string): Promise<MentalModelRow | undefined> {
  const [row] = await db.delete(mentalModels).where(byId(projectId, id)).returning();
  return row;
}

export async function countMentalModels(db: Db, projectId: string, tagCondition?: SQL, excludeIds: string[] = []): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(mentalModels)
    .where(and(eq(mentalModels.projectId, projectId), tagCondition, excludedIds(excludeIds)));
  return row!.n;
}

function excludedIds(ids: string[]): SQL | undefined {
  return ids.length ? sql`NOT (${mentalModels.id} = ANY(${sql.param(ids)}::text[]))` : undefined;
}

export interface FoundMentalModel {
  id: string;
  name: string;
  sourceQuery: string;
  content: string;
  tags: string[];
  similarity: number;
}

/**
 * A project has few mental models, so an exact scan by cosine is enough (no index). Models
 * embedded with another embedding model cannot be compared: they come last, similarity 0.
 */
export async function nearestMentalModels(
  db: Db,
  q: { projectId: string; model: string; dimensions: number; vector: number[]; tagCondition?: SQL; excludeIds: string[]; limit: number },
): Promise<FoundMentalModel[]> {
  const typed = sql.raw(`vector(${q.dimensions})`);
  const rows = await db
    .select({
      id: mentalModels.id,
      name: mentalModels.name,
      sourceQuery: mentalModels.sourceQuery,
      content: mentalModels.content,
      tags: mentalModels.tags,
      similarity: sql<number>`CASE WHEN ${mentalModels.embeddingModel} = ${q.model}
        THEN 1 - ((${mentalModels.embedding}::${typed}) <=> ${`[${q.vector.join(',')}]`}::${typed}) ELSE 0 END`
        .mapWith(Number)
        .as('similarity'),
    })
    .from(mentalModels)
    .where(and(eq(mentalModels.projectId, q.projectId), q.tagCondition, excludedIds(q.excludeIds)))
    .orderBy(sql`similarity DESC`, asc(mentalModels.id))
    .limit(q.limit);
  return rows;
}
