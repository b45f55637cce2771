import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { projects } from './schema.js';

export interface ProjectSummaryRow {
  id: string;
  slug: string;
  createdAt: Date;
  traceCount: number;
  pendingReviewCount: number;
  memoryCount: number;
}

/**
 * Projects with their counts: all of a user's (`ownerUserId`) or one (`projectId`). The counts are
 * index-only scans of the traces and memories indexes that lead with project_id; the pending
 * count reads the review queue's partial index (traces without a review).
 */
export async function listProjectSummaries(db: Db, scope: { ownerUserId: string } | { projectId: string }): Promise<ProjectSummaryRow[]> {
  return db
    .select({
      id: projects.id,
      slug: projects.slug,
      createdAt: projects.createdAt,
      // Written out qualified: drizzle renders columns of a one-table select without their table.
      traceCount: sql<number>`(select count(*)::int from traces t where t.project_id = projects.id)`,
      pendingReviewCount: sql<number>`(select count(*)::int from traces t where t.project_id = projects.id and t.review_result is null)`,
      memoryCount: sql<number>`(select count(*)::int from memories m where m.project_id = projects.id)`,
    })
    .from(projects)
    .where('ownerUserId' in scope ? eq(projects.ownerUserId, scope.ownerUserId) : eq(projects.id, scope.projectId))
    .orderBy(asc(projects.slug));
}
