import type { Db } from '../../db/client.js';
import { listLlmCalls } from '../../db/llmCalls.js';
import type { ProjectRow } from '../../db/schema.js';
import { iso } from '../../http/schemas.js';
import type { ListLlmCallsQuery, LlmCallWire } from './models.js';

/** The usage log of a project, newest first. */
export function createLlmCallService(deps: { db: Db }) {
  return {
    async list(project: ProjectRow, query: ListLlmCallsQuery) {
      const page = await listLlmCalls(
        deps.db,
        project.id,
        { purpose: query.purpose, outcome: query.outcome, createdAfter: query.created_after, createdBefore: query.created_before },
        { limit: query.limit, after: query.cursor },
      );
      const calls: LlmCallWire[] = page.rows.map((r) => ({
        id: r.id,
        purpose: r.purpose,
        model: r.model,
        tokens_in: r.tokensIn,
        tokens_out: r.tokensOut,
        latency_ms: r.latencyMs,
        outcome: r.outcome,
        error: r.error,
        trace_id: r.traceId,
        request_id: r.requestId,
        created_at: iso(r.createdAt),
      }));
      return { calls, next: page.next };
    },
  };
}

export type LlmCallService = ReturnType<typeof createLlmCallService>;
