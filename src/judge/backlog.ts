import type { Principal } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { queueJudgeBacklog } from '../db/judge.js';
import { ApiError } from '../http/errors.js';
import { resolveAddressedProject } from '../projects/settings.js';
import type { JobQueue } from '../queue/jobQueue.js';
import { llmNotConfigured } from './settings.js';
import type { JudgeBacklogQueuedWire } from './settingsModels.js';

const judgeOff = () =>
  new ApiError(409, 'judge_off', "The project's judge is switched off: switch it on (PATCH /v1/projects/{project}/judge) to judge the traces waiting");

/**
 * The traces that were waiting before the judge was switched on (or that its filter did not
 * match then): queued for it on request, as a new arrival would be. The judge step does the rest.
 */
export function createJudgeBacklogService(deps: { db: Db; queue: Pick<JobQueue, 'enqueue'>; llmConfigured: boolean }) {
  const { db } = deps;
  return {
    /** Queues the newest `limit` traces of the backlog; nothing is written when refused. */
    async queue(principal: Principal, slugOrId: string, limit: number): Promise<JudgeBacklogQueuedWire> {
      const project = await resolveAddressedProject(db, principal, slugOrId);
      if (!deps.llmConfigured) throw llmNotConfigured();
      if (!project.judgeEnabled) throw judgeOff();
      const queued = await queueJudgeBacklog(db, project.id, project.judgeMetadataFilter, limit);
      // Marked first, then enqueued: a lost enqueue is found again by the sweeper (ingest_status queued).
      for (const row of queued) await deps.queue.enqueue({ traceId: row.id, round: row.ingestRound });
      return { queued: queued.length, trace_ids: queued.map((r) => r.id) };
    },
  };
}

export type JudgeBacklogService = ReturnType<typeof createJudgeBacklogService>;
