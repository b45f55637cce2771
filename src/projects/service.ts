import type { Principal } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { listProjectSummaries } from '../db/projects.js';
import { iso } from '../http/schemas.js';
import type { ProjectSummaryWire } from './models.js';

/** The projects a key may act on: all of its user's for a master key, its own for a project key. */
export function createProjectService(deps: { db: Db }) {
  return {
    async list(principal: Principal): Promise<ProjectSummaryWire[]> {
      const rows = await listProjectSummaries(
        deps.db,
        principal.isMaster ? { ownerUserId: principal.userId } : { projectId: principal.keyProject.id },
      );
      return rows.map((r) => ({
        id: r.id,
        slug: r.slug,
        created_at: iso(r.createdAt),
        trace_count: r.traceCount,
        pending_review_count: r.pendingReviewCount,
        memory_count: r.memoryCount,
      }));
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
