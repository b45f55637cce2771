import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.js';
import { countTraces, newestTracePosition, type TraceListFilter } from '../db/traceViews.js';

/**
 * X-Total-Count without counting a large project on every first page. A count over filters on
 * fields a trace never changes (model, metadata, task, created_at — not the review or ingest
 * status, the review's source or the judge's status) can only change when a trace is added, and traces are never deleted one by one; so such
 * a count stays exact while the project's newest trace is the same one, which one index probe
 * tells. Counts with a status filter, or after a new trace, are taken again.
 */
export function createTraceTotals(deps: { db: Db; maxEntries?: number }) {
  const cache = new LRUCache<string, { total: number; newest: string | null }>({ max: deps.maxEntries ?? 1_000 });

  return {
    async count(projectId: string, filter: TraceListFilter): Promise<number> {
      if (filter.reviewStatus || filter.ingestStatus || filter.reviewSource || filter.judgeStatus) return countTraces(deps.db, projectId, filter);
      const key = `${projectId} ${JSON.stringify(filter)}`;
      // Probed before counting: a trace added in between makes the next request count again.
      const newest = await newestTracePosition(deps.db, projectId);
      const cached = cache.get(key);
      if (cached && cached.newest === newest) return cached.total;
      const total = await countTraces(deps.db, projectId, filter);
      cache.set(key, { total, newest });
      return total;
    },
  };
}

export type TraceTotals = ReturnType<typeof createTraceTotals>;
