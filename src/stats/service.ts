import type { Db } from '../db/client.js';
import type { ProjectRow } from '../db/schema.js';
import { dailyFigures, projectTotals, qHistogram } from '../db/stats.js';
import type { ProjectStatsWire } from './models.js';

const Q_BUCKETS = 10;

const rate = (passed: number, failed: number) => (passed + failed === 0 ? null : passed / (passed + failed));

/** The overview of a project: totals, the learning curve per day, and where Q-values stand. */
export function createStatsService(deps: { db: Db }) {
  const { db } = deps;
  return {
    async overview(project: ProjectRow, days: number): Promise<ProjectStatsWire> {
      // One after the other: on the embedded engine they would queue on its one session anyway.
      const totals = await projectTotals(db, project.id);
      const series = await dailyFigures(db, project.id, days);
      const histogram = await qHistogram(db, project.id, Q_BUCKETS);
      return {
        traces: totals.traces,
        pending_reviews: totals.pendingReviews,
        memories: totals.memories,
        reviewed: totals.passed + totals.failed,
        passed: totals.passed,
        failed: totals.failed,
        pass_rate: rate(totals.passed, totals.failed),
        days: series.map((d) => ({
          date: d.date,
          pass: d.pass,
          fail: d.fail,
          pass_rate: rate(d.pass, d.fail),
          memories_created: d.memoriesCreated,
          llm_calls: d.llmCalls,
          tokens_in: d.tokensIn,
          tokens_out: d.tokensOut,
        })),
        q_histogram: histogram.map((count, i) => ({ from: i / Q_BUCKETS, to: (i + 1) / Q_BUCKETS, count })),
      };
    },
  };
}

export type StatsService = ReturnType<typeof createStatsService>;
