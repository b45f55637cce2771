import { and, desc, eq, getTableColumns, gte, lt, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { KeysetPosition } from '../http/cursor.js';
import type { Db } from './client.js';
import { apiKeys, traces, type TraceRow } from './schema.js';

/** A key as shown beside a trace: its id and label. */
export interface KeyLabel {
  keyId: string;
  label: string;
}

/** A trace as the API shows it: the row, who reviewed it, who holds its lease (if live). */
export type TraceView = Omit<TraceRow, 'trajectory'> & {
  /** Absent when the page was asked for without trajectories. */
  trajectory?: TraceRow['trajectory'];
  reviewer: KeyLabel | null;
  lease: (KeyLabel & { expiresAt: Date }) | null;
  /** created_at as PostgreSQL's text, to the microsecond: the keyset cursor's position. */
  position: string;
};

const reviewerKey = alias(apiKeys, 'reviewer_key');
const leaseKey = alias(apiKeys, 'lease_key');
const { trajectory, ...withoutTrajectory } = getTableColumns(traces);

function selectViews(db: Db, withTrajectory: boolean) {
  return db
    .select({
      ...(withTrajectory ? { ...withoutTrajectory, trajectory } : withoutTrajectory),
      reviewerLabel: reviewerKey.label,
      leaseLabel: leaseKey.label,
      leaseLive: sql<boolean>`${traces.leaseExpiresAt} > now()`,
      position: sql<string>`${traces.createdAt}::text`,
    })
    .from(traces)
    .leftJoin(reviewerKey, eq(reviewerKey.id, traces.reviewedByKeyId))
    .leftJoin(leaseKey, eq(leaseKey.id, traces.leaseKeyId));
}

type SelectedView = Awaited<ReturnType<ReturnType<typeof selectViews>['execute']>>[number];

function toView({ reviewerLabel, leaseLabel, leaseLive, ...row }: SelectedView): TraceView {
  return {
    ...row,
    reviewer: row.reviewedByKeyId && reviewerLabel !== null ? { keyId: row.reviewedByKeyId, label: reviewerLabel } : null,
    lease:
      row.leaseKeyId && leaseLive && leaseLabel !== null ? { keyId: row.leaseKeyId, label: leaseLabel, expiresAt: row.leaseExpiresAt! } : null,
  };
}

export async function getTraceView(db: Db, projectId: string, id: string): Promise<TraceView | undefined> {
  const [row] = await selectViews(db, true).where(and(eq(traces.id, id), eq(traces.projectId, projectId)));
  return row && toView(row);
}

export interface TraceListFilter {
  reviewStatus?: string;
  ingestStatus?: string;
  model?: string;
  metadata?: { key: string; value: string };
  createdAfter?: Date;
  createdBefore?: Date;
  /** Case-insensitive substring of the task. */
  text?: string;
  reviewSource?: 'human' | 'judge';
  judgeStatus?: string;
}

/** LIKE's wildcards in a user's text match themselves. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The WHERE of the list (and of bulk review by filter): the project, then each filter given. */
export function traceFilterCondition(projectId: string, f: TraceListFilter): SQL {
  const conditions: (SQL | undefined)[] = [
    eq(traces.projectId, projectId),
    f.reviewStatus ? eq(traces.reviewStatus, f.reviewStatus) : undefined,
    f.ingestStatus ? eq(traces.ingestStatus, f.ingestStatus) : undefined,
    f.model ? eq(traces.model, f.model) : undefined,
    f.metadata ? sql`${traces.metadata} ->> ${f.metadata.key} = ${f.metadata.value}` : undefined,
    f.createdAfter ? gte(traces.createdAt, f.createdAfter) : undefined,
    f.createdBefore ? lt(traces.createdAt, f.createdBefore) : undefined,
    f.text ? sql`${traces.task} ILIKE ${`%${likeLiteral(f.text)}%`}` : undefined,
    f.reviewSource ? eq(traces.reviewSource, f.reviewSource) : undefined,
    f.judgeStatus ? eq(traces.judgeStatus, f.judgeStatus as NonNullable<TraceRow['judgeStatus']>) : undefined,
  ];
  return and(...conditions)!;
}

/** Strictly after `p` in the list's order, (created_at, id) descending: one index range. */
function afterPosition(p: KeysetPosition): SQL {
  return sql`(${traces.createdAt}, ${traces.id}) < (${p.createdAt}::timestamptz, ${p.id}::uuid)`;
}

export interface TracePage {
  rows: TraceView[];
  /** The position after the last row, when a next page may exist. */
  next: KeysetPosition | undefined;
}

/**
 * A page of the list, newest first. With `after`, keyset pagination on the
 * (project_id, created_at desc, id desc) index: a deep page costs what the first one does, and
 * traces arriving meanwhile neither repeat nor skip rows. `offset` stays for old clients.
 */
export async function listTraceViews(
  db: Db,
  projectId: string,
  filter: TraceListFilter,
  page: { limit: number; offset: number; after?: KeysetPosition; withTrajectory: boolean },
): Promise<TracePage> {
  const where = and(traceFilterCondition(projectId, filter), page.after ? afterPosition(page.after) : undefined);
  // One row more than asked tells whether there is a next page, without a count.
  const rows = await selectViews(db, page.withTrajectory)
    .where(where)
    .orderBy(desc(traces.createdAt), desc(traces.id))
    .limit(page.limit + 1)
    .offset(page.offset);
  const views = rows.slice(0, page.limit).map(toView);
  const last = views.at(-1);
  return { rows: views, next: rows.length > page.limit && last ? { createdAt: last.position, id: last.id } : undefined };
}

/** How many traces match the filter (X-Total-Count). */
export async function countTraces(db: Db, projectId: string, filter: TraceListFilter): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(traces).where(traceFilterCondition(projectId, filter));
  return row!.n;
}


/** The project's newest trace as a keyset position (one index probe), or null without traces. */
export async function newestTracePosition(db: Db, projectId: string): Promise<string | null> {
  const [row] = await db
    .select({ position: sql<string>`${traces.createdAt}::text || ' ' || ${traces.id}` })
    .from(traces)
    .where(eq(traces.projectId, projectId))
    .orderBy(desc(traces.createdAt), desc(traces.id))
    .limit(1);
  return row?.position ?? null;
}
