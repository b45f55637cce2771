import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type TraceFilter } from '../api/endpoints.ts';
import type { BulkReviewResult, ReviewResult } from '../api/types.ts';
import { useAsync } from '../components/useAsync.ts';
import { Badge, Empty, ErrorBox, Loading, short, Time } from '../components/ui.tsx';

const PAGE = 50;
const JUDGE_STATUSES = ['queued', 'judging', 'judged', 'failed', 'skipped'] as const;
/** The filters a link may set in the URL (?review_source=judge); anything else there is ignored. */
const LINKABLE = ['review_status', 'review_source', 'judge_status', 'ingest_status'] as const;

function fromQuery(query: Record<string, string>): TraceFilter {
  return Object.fromEntries(LINKABLE.filter((k) => query[k]).map((k) => [k, query[k]])) as TraceFilter;
}

/** Trace table: filters, newest first, cursor pages, selection and bulk review. */
export function TracesPage() {
  // Links may open the list filtered (the overview's "judge's verdicts no person has checked").
  const { query } = useLocation();
  const initial = fromQuery(query);
  const [draft, setDraft] = useState<TraceFilter>(initial);
  const [filter, setFilter] = useState<TraceFilter>(initial);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  // Bumped by Apply, so applying the same filters again reloads (e.g. to see reviews processed).
  const [version, setVersion] = useState(0);
  const list = useAsync(() => api.traces(filter, cursor, PAGE), [JSON.stringify(filter), cursor, version]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [bulk, setBulk] = useState<{ busy: boolean; error: unknown; result: BulkReviewResult | null }>({ busy: false, error: null, result: null });
  const [feedback, setFeedback] = useState('');

  const apply = (e: Event) => {
    e.preventDefault();
    const clean = Object.fromEntries(Object.entries(draft).filter(([, v]) => v)) as TraceFilter;
    for (const k of ['created_after', 'created_before'] as const) if (clean[k]) clean[k] = new Date(clean[k]!).toISOString();
    setFilter(clean);
    setVersion(version + 1);
    setCursors([null]);
    setSelected(new Set());
    setAllMatching(false);
  };
  const field = (name: keyof TraceFilter) => ({
    value: draft[name] ?? '',
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });

  const items = list.data?.items ?? [];
  const statusOf = new Map(bulk.result?.results.map((r) => [r.trace_id, r]) ?? []);
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
    setAllMatching(false);
  };
  const pageAllSelected = items.length > 0 && items.every((t) => selected.has(t.id));
  const count = allMatching ? (list.data?.total ?? 0) : selected.size;

  async function review(result: ReviewResult) {
    const what = allMatching ? `all ${count} traces matching the filter` : `${selected.size} selected trace(s)`;
    if (!window.confirm(`Mark ${what} as ${result}?`)) return;
    setBulk({ busy: true, error: null, result: null });
    try {
      const body = allMatching
        ? { result, feedback_text: feedback || undefined, filter, limit: 1000 }
        : { result, feedback_text: feedback || undefined, trace_ids: [...selected] };
      const answer = await api.bulkReview(body);
      setBulk({ busy: false, error: null, result: answer });
      setSelected(new Set());
      setAllMatching(false);
      list.reload();
    } catch (e) {
      setBulk({ busy: false, error: e, result: null });
    }
  }

  return (
    <section>
      <h1>Traces</h1>
      <form class="filters card" onSubmit={apply}>
        <label>
          Review
          <select {...field('review_status')}>
            <option value="">any</option>
            <option value="pending">pending</option>
            <option value="reviewed">reviewed</option>
          </select>
        </label>
        <label>
          Reviewed by
          <select {...field('review_source')}>
            <option value="">anyone</option>
            <option value="human">a person</option>
            <option value="judge">the judge</option>
          </select>
        </label>
        <label>
          Judge
          <select {...field('judge_status')}>
            <option value="">any</option>
            {JUDGE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Ingest
          <select {...field('ingest_status')}>
            <option value="">any</option>
            <option value="queued">queued</option>
            <option value="processing">processing</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          Model
          <input {...field('model')} placeholder="gpt-…" />
        </label>
        <label>
          Metadata key
          <input {...field('metadata_key')} placeholder="env" />
        </label>
        <label>
          = value
          <input {...field('metadata_value')} placeholder="prod" />
        </label>
        <label>
          From
          <input type="datetime-local" {...field('created_after')} />
        </label>
        <label>
          To
          <input type="datetime-local" {...field('created_before')} />
        </label>
        <label class="grow">
          Task contains
          <input type="search" {...field('q')} placeholder="text in the task" />
        </label>
        <button type="submit">Apply</button>
      </form>

      {selected.size > 0 || allMatching ? (
        <div class="card bulkbar" role="region" aria-label="Bulk review">
          <strong>{count} selected</strong>
          {pageAllSelected && !allMatching && list.data?.total && list.data.total > items.length ? (
            <button type="button" class="link-button" onClick={() => setAllMatching(true)}>
              Select all {list.data.total} matching the filter
            </button>
          ) : null}
          <input class="grow" value={feedback} onInput={(e) => setFeedback((e.target as HTMLInputElement).value)} placeholder="Feedback for all (optional)" />
          <button type="button" class="pass" disabled={bulk.busy} onClick={() => review('pass')}>
            Pass selected
          </button>
          <button type="button" class="fail" disabled={bulk.busy} onClick={() => review('fail')}>
            Fail selected
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setSelected(new Set());
              setAllMatching(false);
            }}
          >
            Clear
          </button>
        </div>
      ) : null}
      <ErrorBox error={bulk.error} what="Bulk review failed" />
      {bulk.result ? <BulkResult result={bulk.result} /> : null}

      <ErrorBox error={list.error} what="Could not load traces" />
      {list.data && items.length === 0 ? (
        <Empty title="No traces match">{Object.keys(filter).length ? 'Loosen the filters above.' : 'Traces your agent sends appear here, newest first.'}</Empty>
      ) : null}
      {items.length > 0 ? (
        <table class="table traces-table">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="Select this page"
                  checked={pageAllSelected}
                  onChange={() => {
                    setSelected(pageAllSelected ? new Set() : new Set(items.map((t) => t.id)));
                    setAllMatching(false);
                  }}
                />
              </th>
              <th>Task</th>
              <th>Review</th>
              <th>Ingest</th>
              <th>Model</th>
              <th>Reviewer</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => {
              const outcome = statusOf.get(t.id);
              return (
                <tr key={t.id} data-trace-id={t.id} class={selected.has(t.id) || allMatching ? 'selected' : ''}>
                  <td>
                    <input type="checkbox" aria-label={`Select trace ${short(t.id)}`} checked={selected.has(t.id) || allMatching} onChange={() => toggle(t.id)} />
                  </td>
                  <td class="task-cell">
                    <a href={`/traces/${t.id}`}>{t.task.length > 140 ? `${t.task.slice(0, 140)}…` : t.task}</a>
                    {outcome && outcome.status !== 'queued' ? <span class="error-text small"> {outcome.status}: {outcome.detail ?? ''}</span> : null}
                  </td>
                  <td>
                    <Badge value={t.review_status} /> {t.review ? <Badge value={t.review.result} /> : null}
                    {t.review?.source === 'judge' ? <Badge value="judge" /> : null}
                    {t.review?.overridden_at ? <Badge value={t.judge?.result === t.review.result ? 'confirmed the judge' : 'overrode the judge'} kind="override" /> : null}
                  </td>
                  <td>
                    <Badge value={t.ingest_status} />
                  </td>
                  <td>{t.model ?? <span class="muted">—</span>}</td>
                  <td>{t.review?.source === 'judge' ? <span class="muted">the judge</span> : (t.review?.reviewer?.label ?? <span class="muted">—</span>)}</td>
                  <td>
                    <Time iso={t.created_at} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {list.loading && !list.data ? <Loading /> : null}
      <div class="pager">
        <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">
          {list.data?.total !== null && list.data?.total !== undefined ? `${list.data.total.toLocaleString()} trace(s)` : ''} · page {cursors.length}
        </span>
        <button type="button" class="secondary" disabled={!list.data?.nextCursor} onClick={() => setCursors([...cursors, list.data!.nextCursor])}>
          Older →
        </button>
      </div>
    </section>
  );
}

function BulkResult({ result }: { result: BulkReviewResult }) {
  const problems = result.results.filter((r) => r.status === 'conflict' || r.status === 'not_found');
  const notFound = problems.length - result.conflicts;
  return (
    <div class="card bulk-result" role="status">
      <strong>
        {result.queued} review(s) queued{result.overridden ? `, ${result.overridden} judge review(s) overridden` : ''}
        {result.conflicts ? `, ${result.conflicts} conflict(s)` : ''}
        {notFound > 0 ? `, ${notFound} not found` : ''}.
      </strong>
      {problems.length ? (
        <ul>
          {problems.map((r) => (
            <li key={r.trace_id}>
              <a href={`/traces/${r.trace_id}`}>
                <code>{short(r.trace_id)}</code>
              </a>{' '}
              <Badge value={r.status} kind="fail" /> {r.detail ?? ''}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
