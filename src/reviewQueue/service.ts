import type { Principal } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { attachReviews, claimNextTrace, releaseLeases, reviewBlockers, traceIdsMatching } from '../db/reviewQueue.js';
import type { ProjectRow } from '../db/schema.js';
import { traceFilterCondition } from '../db/traceViews.js';
import { notFound } from '../http/errors.js';
import { iso } from '../http/schemas.js';
import type { JobQueue } from '../queue/jobQueue.js';
import type { RedactionCounts } from '../security/secrets.js';
import { toListFilter, toTraceWire, type TraceService } from '../traces/service.js';
import type { BulkReviewBody, BulkReviewResultWire, ClaimBody } from './models.js';

/**
 * The human side of reviewing: a queue where each reviewer holds a short lease on the trace
 * they have open (so two never judge the same one), and review in bulk.
 */
export function createReviewQueueService(deps: { db: Db; queue: JobQueue; traces: TraceService; defaultAlpha: number; leaseMs: number }) {
  const { db } = deps;

  return {
    /** The next trace for this key, leased to it; undefined when the queue is empty. */
    async claim(principal: Principal, project: ProjectRow, body: ClaimBody) {
      const claimed = await claimNextTrace(db, {
        projectId: project.id,
        keyId: principal.keyRowId,
        leaseMs: deps.leaseMs,
        after: body.after,
        before: body.before,
      });
      if (claimed === 'anchor_not_found') throw notFound('Trace');
      if (!claimed) return undefined;
      const trace = await deps.traces.get(project, claimed.id);
      return { trace: toTraceWire(trace), lease_expires_at: iso(claimed.leaseExpiresAt) };
    },

    release(principal: Principal, project: ProjectRow): Promise<number> {
      return releaseLeases(db, project.id, principal.keyRowId);
    },

    /** Each trace as a single review would treat it; the answer says what happened to each. */
    async bulkReview(principal: Principal, project: ProjectRow, body: BulkReviewBody): Promise<BulkReviewResultWire> {
      const ids =
        'trace_ids' in body
          ? [...new Set(body.trace_ids)]
          : await traceIdsMatching(db, traceFilterCondition(project.id, toListFilter(body.filter)), body.limit);
      const redactions: RedactionCounts = {};
      const feedback = deps.traces.redactor.redact(body.feedback_text ?? null, redactions);
      const reviewed = await attachReviews(db, project.id, ids, {
        redactions,
        result: body.result,
        feedback,
        alpha: body.alpha ?? null,
        defaultAlpha: deps.defaultAlpha,
        reviewerKeyId: principal.keyRowId,
      });
      // The database holds the reviews now; a lost enqueue is found again by the sweeper.
      await Promise.all(reviewed.map((row) => deps.queue.enqueue({ traceId: row.id, round: row.ingestRound })));
      const queued = new Set(reviewed.map((r) => r.id));
      const blockers = await reviewBlockers(
        db,
        project.id,
        ids.filter((id) => !queued.has(id)),
      );
      // A review of a trace only the judge has reviewed overrides it, as a single review would (one at a time: each locks its memories).
      const overridden = new Set<string>();
      for (const [id, blocker] of blockers) {
        if (!blocker.judgeReview) continue;
        const alpha = body.alpha ?? blocker.alpha ?? deps.defaultAlpha;
        const done = await deps.traces.tryOverrideJudge(project, id, { result: body.result, feedback, alpha, reviewerKeyId: principal.keyRowId, redactions });
        if (done) overridden.add(id);
      }
      const results = ids.map((id): BulkReviewResultWire['results'][number] => {
        if (queued.has(id)) return { trace_id: id, status: 'queued' };
        if (overridden.has(id)) return { trace_id: id, status: 'overridden' };
        const blocker = blockers.get(id);
        if (!blocker) return { trace_id: id, status: 'not_found', detail: 'Trace not found' };
        if (blocker.reviewed) return { trace_id: id, status: 'conflict', detail: 'Trace has already been reviewed' };
        return { trace_id: id, status: 'conflict', detail: `trace_leased: another reviewer ("${blocker.leasedBy ?? 'unknown'}") has this trace open` };
      });
      return { results, queued: queued.size, overridden: overridden.size, conflicts: results.filter((r) => r.status === 'conflict').length };
    },
  };
}

export type ReviewQueueService = ReturnType<typeof createReviewQueueService>;
