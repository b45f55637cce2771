import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import type { Memory } from '../api/types.ts';
import { useAsync } from '../components/useAsync.ts';
import { Badge, Empty, ErrorBox, Loading, QValue, Time } from '../components/ui.tsx';

const PAGE = 50;
type Sort = 'q_value' | 'created_at' | 'last_used_at';

export function MemoriesPage() {
  return (
    <section>
      <h1>Memories</h1>
      <RankingSearch />
      <MemoryTable />
    </section>
  );
}

/** Runs the server's real ranking, so a person sees why a memory ranks where it does. */
function RankingSearch() {
  const [task, setTask] = useState('');
  const [lambda, setLambda] = useState(0.5);
  const [threshold, setThreshold] = useState('');
  const [state, setState] = useState<{ busy: boolean; error: unknown; results: Memory[] | null }>({ busy: false, error: null, results: null });

  async function search(e: Event) {
    e.preventDefault();
    if (!task.trim()) return;
    setState({ busy: true, error: null, results: state.results });
    try {
      const results = await api.queryMemories({ task, limit: 20, lambda_: lambda, similarity_threshold: threshold === '' ? null : Number(threshold) });
      setState({ busy: false, error: null, results });
    } catch (error) {
      setState({ busy: false, error, results: null });
    }
  }

  return (
    <div class="card">
      <form class="search-form" onSubmit={search}>
        <input type="search" class="grow" placeholder="Search as your agent would: describe a task" value={task} onInput={(e) => setTask((e.target as HTMLInputElement).value)} aria-label="Task to rank memories for" />
        <label class="slider">
          λ {lambda.toFixed(2)}
          <input type="range" min="0" max="1" step="0.05" value={lambda} onInput={(e) => setLambda(Number((e.target as HTMLInputElement).value))} aria-label="lambda: 0 = similarity only, 1 = Q only" />
        </label>
        <label>
          Min similarity
          <input type="number" min="-1" max="1" step="0.05" class="narrow" value={threshold} placeholder="none" onInput={(e) => setThreshold((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled={state.busy}>
          Rank
        </button>
      </form>
      <p class="muted small">score = (1 − λ) · similarity + λ · Q. λ 0 ranks by similarity alone, 1 by Q alone.</p>
      <ErrorBox error={state.error} what="Search failed" />
      {state.results && state.results.length === 0 ? <Empty title="No memory matches">Lower the threshold or try other words.</Empty> : null}
      {state.results && state.results.length > 0 ? (
        <table class="table ranking">
          <thead>
            <tr>
              <th>#</th>
              <th>Memory</th>
              <th class="num">Similarity</th>
              <th>Q</th>
              <th class="num">Score</th>
            </tr>
          </thead>
          <tbody>
            {state.results.map((m, i) => (
              <tr key={m.id}>
                <td>{i + 1}</td>
                <td class="task-cell">
                  <a href={`/memories/${m.id}`}>{m.task}</a>
                </td>
                <td class="num">{m.similarity.toFixed(3)}</td>
                <td>
                  <QValue q={m.q_value} />
                </td>
                <td class="num">
                  <strong>{m.score.toFixed(3)}</strong>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function MemoryTable() {
  const [sort, setSort] = useState<Sort>('created_at');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const [offset, setOffset] = useState(0);
  const list = useAsync(() => api.memories({ sort, order, limit: PAGE, offset }), [sort, order, offset]);
  const header = (key: Sort, label: string) => (
    <th aria-sort={sort === key ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button
        type="button"
        class="sort"
        onClick={() => {
          if (sort === key) setOrder(order === 'asc' ? 'desc' : 'asc');
          else {
            setSort(key);
            setOrder('desc');
          }
          setOffset(0);
        }}
      >
        {label} <span class={sort === key ? '' : 'muted'}>{sort === key ? (order === 'asc' ? '▲' : '▼') : '⇅'}</span>
      </button>
    </th>
  );
  const items = list.data?.items ?? [];
  return (
    <>
      <h2>All memories</h2>
      <ErrorBox error={list.error} what="Could not load memories" />
      {list.data && items.length === 0 && offset === 0 ? (
        <Empty title="No memories yet">A memory is written when a trace is reviewed: open the review queue and judge a run.</Empty>
      ) : null}
      {items.length > 0 ? (
        <table class="table memories-table">
          <thead>
            <tr>
              <th>Task</th>
              <th>Outcome</th>
              {header('q_value', 'Q-value')}
              {header('last_used_at', 'Last used')}
              <th class="num">Uses</th>
              {header('created_at', 'Created')}
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.id} data-memory-id={m.id}>
                <td class="task-cell">
                  <a href={`/memories/${m.id}`}>{m.task.length > 140 ? `${m.task.slice(0, 140)}…` : m.task}</a>
                </td>
                <td>{m.success === null ? <span class="muted">—</span> : <Badge value={m.success ? 'pass' : 'fail'} />}</td>
                <td>
                  <QValue q={m.q_value} />
                </td>
                <td>
                  <Time iso={m.last_used_at} />
                </td>
                <td class="num">{m.use_count ?? '—'}</td>
                <td>
                  <Time iso={m.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.loading && !list.data ? <Loading /> : null}
      <div class="pager">
        <button type="button" class="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          ← Previous
        </button>
        <span class="muted">{list.data?.total != null ? `${list.data.total.toLocaleString()} ${list.data.total === 1 ? 'memory' : 'memories'}` : ''}</span>
        <button type="button" class="secondary" disabled={items.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
          Next →
        </button>
      </div>
    </>
  );
}
