import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { apiKeys, projects, users, type ApiKeyRow, type ProjectRow } from './schema.js';

/** Finds or creates; concurrent callers all get the same row. */
export async function ensureUser(db: Db, externalId: string): Promise<string> {
  const [row] = await db
    .insert(users)
    .values({ externalId })
    .onConflictDoUpdate({ target: users.externalId, set: { externalId } })
    .returning({ id: users.id });
  return row!.id;
}

export async function findProject(db: Db, ownerUserId: string, slug: string): Promise<ProjectRow | undefined> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.ownerUserId, ownerUserId), eq(projects.slug, slug)));
  return row;
}

export async function ensureProject(db: Db, ownerUserId: string, slug: string): Promise<ProjectRow> {
  const existing = await findProject(db, ownerUserId, slug);
  if (existing) return existing;
  await db.insert(projects).values({ ownerUserId, slug }).onConflictDoNothing();
  return (await findProject(db, ownerUserId, slug))!;
}

export type NewApiKey = typeof apiKeys.$inferInsert;

export async function insertApiKey(db: Db, key: NewApiKey): Promise<ApiKeyRow> {
  const [row] = await db.insert(apiKeys).values(key).returning();
  return row!;
}

export interface KeyWithProject {
  key: ApiKeyRow;
  projectSlug: string;
  userExternalId: string;
}

/** Keys with the names their owner chose for user and project (what ApiKeyInfo shows). */
function keysWithNames(db: Db) {
  return db
    .select({ key: apiKeys, projectSlug: projects.slug, userExternalId: users.externalId })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .innerJoin(users, eq(users.id, apiKeys.userId));
}

/** A key and the project it is bound to, in one query (every authenticated request runs it). */
export async function findKeyByKeyId(db: Db, keyId: string): Promise<{ key: ApiKeyRow; project: ProjectRow } | undefined> {
  const [row] = await db
    .select({ key: apiKeys, project: projects })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.keyId, keyId));
  return row;
}

/** Keys of a project; with `includeMastersOf`, also that user's master keys wherever they are bound. */
export async function listApiKeys(db: Db, projectId: string, includeMastersOf?: string): Promise<KeyWithProject[]> {
  const scope = includeMastersOf
    ? or(eq(apiKeys.projectId, projectId), and(eq(apiKeys.userId, includeMastersOf), eq(apiKeys.isMaster, true)))
    : eq(apiKeys.projectId, projectId);
  return keysWithNames(db).where(scope).orderBy(apiKeys.createdAt);
}

export async function findApiKey(db: Db, id: string): Promise<KeyWithProject | undefined> {
  const [row] = await keysWithNames(db).where(eq(apiKeys.id, id));
  return row;
}

/** Revokes once; revoking again keeps the first time. */
export async function revokeApiKey(db: Db, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(eq(apiKeys.id, id));
}

/** At most one write a minute per key: `last_used_at` is for humans, not an audit log. */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))));
}

export async function countUsers(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(users);
  return row!.n;
}

/** Ids of the projects with this slug, of one owner when `userExternalId` is given. */
export async function projectsWithSlug(db: Db, slug: string, userExternalId?: string): Promise<string[]> {
  const rows = await db
    .select({ id: projects.id })
    .from(projects)
    .innerJoin(users, eq(users.id, projects.ownerUserId))
    .where(and(eq(projects.slug, slug), userExternalId ? eq(users.externalId, userExternalId) : undefined));
  return rows.map((r) => r.id);
}
