import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/endpoints.ts';
import type { Memory, QValueChange } from '../api/types.ts';
import { Chart } from '../components/Chart.tsx';
import { useAsync } from '../components/useAsync.ts';
import { Badge, ErrorBox, Folded, JsonBlock, Loading, QValue, short, Time } from '../components/ui.tsx';

export function MemoryPage({ id }: { id: string }) {
  const memory = useAsync(() => api.memory(id), [id]);
  const [editing, setEditing] = useState(false);
  return (
    <section>
      <p class="crumbs">
        <a href="/memories">Memories</a> /
      </p>
      <h1>Memory</h1>
      <ErrorBox error={memory.error} what="Could not load the memory" />
      {memory.loading && !memory.data ? <Loading /> : null}
      {memory.data ? (
        editing ? (
          <EditMemory
            memory={memory.data}
            onDone={(m) => {
              if (m) memory.set(m);
              setEditing(false);
            }}
          />
        ) : (
          <MemoryDetails memory={memory.data} onEdit={() => setEditing(true)} onChange={(m) => memory.set(m)} />
        )
      ) : null}
    </section>
  );
}

function MemoryDetails({ memory: m, onEdit, onChange }: { memory: Memory; onEdit: () => void; onChange: (m: Memory) => void }) {
  const { route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    if (!window.confirm('Delete this memory? Agents will no longer retrieve it.')) return;
    try {
      await api.deleteMemory(m.id);
      route('/memories');
    } catch (e) {
      setError(e);
    }
  };
  // Invalid: never retrieved, still listed (with the reason and who); restore brings it back.
  const [reason, setReason] = useState('');
  const toggleValidity = async () => {
    try {
      if (m.state === 'invalid') return onChange(await api.restoreMemory(m.id));
      if (!reason.trim()) return setError(new Error('Say why the memory is wrong first'));
      onChange(await api.invalidateMemory(m.id, reason.trim()));
      setReason('');
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  const fields: [string, string][] = [
    ['Summary', m.summary],
    ['Key mistake', m.key_mistake],
    ['Correct action', m.correct_action],
    ['Guidance', m.guidance],
  ];
  return (
    <div class="memory-layout">
      <div>
        <div class="card">
          <div class="card-title">Task</div>
          <Folded text={m.task} />
          <div class="card-title">Reflection</div>
          <Folded text={m.reflection} limit={3000} />
          {fields.map(([label, value]) =>
            value ? (
              <div key={label}>
                <div class="card-title">{label}</div>
                <Folded text={value} />
              </div>
            ) : null,
          )}
        </div>
        <QHistory memory={m} />
      </div>
      <aside class="card facts">
        <dl>
          <dt>State</dt>
          <dd>
            <Badge value={m.state} />
            {m.state === 'invalid' ? (
              <div class="muted">
                {m.invalid_reason} — {m.invalidated_by?.label ?? 'unknown key'}, <Time iso={m.invalidated_at} />
              </div>
            ) : null}
            {m.expires_at ? (
              <div class="muted">
                expires <Time iso={m.expires_at} />
              </div>
            ) : null}
          </dd>
          <dt>Evidence</dt>
          <dd>{m.evidence_count} run(s)</dd>
          <dt>Q-value</dt>
          <dd class="memory-q">
            <QValue q={m.q_value} />
          </dd>
          <dt>Outcome</dt>
          <dd>{m.success === null ? <span class="muted">unknown</span> : <Badge value={m.success ? 'pass' : 'fail'} />}</dd>
          <dt>Kind</dt>
          <dd>{m.fact_type}</dd>
          <dt>Source trace</dt>
          <dd>
            {m.source_trace_id ? (
              <a href={`/traces/${m.source_trace_id}`}>
                <code>{short(m.source_trace_id)}</code>
              </a>
            ) : (
              <span class="muted">written directly</span>
            )}
          </dd>
          <dt>Uses</dt>
          <dd>
            {m.use_count ?? '—'} · last <Time iso={m.last_used_at} />
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={m.created_at} />
          </dd>
          <dt>Updated</dt>
          <dd>
            <Time iso={m.updated_at} />
          </dd>
          <dt>Tags</dt>
          <dd>{m.tags.length ? m.tags.map((t) => <Badge key={t} value={t} kind="tag" />) : <span class="muted">none</span>}</dd>
          <dt>Applicable tools</dt>
          <dd>{m.applicable_tools.join(', ') || <span class="muted">none</span>}</dd>
          <dt>Tools used</dt>
          <dd>{m.tools_used.join(', ') || <span class="muted">none</span>}</dd>
        </dl>
        {Object.keys(m.metadata).length ? (
          <>
            <div class="card-title">Metadata</div>
            <JsonBlock value={m.metadata} />
          </>
        ) : null}
        {m.state !== 'invalid' ? (
          <label class="invalidate-reason">
            Why is it wrong? (invalidating stops agents retrieving it)
            <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} placeholder="The table was renamed" />
          </label>
        ) : null}
        <div class="actions">
          <button type="button" onClick={onEdit}>
            Edit
          </button>
          <button type="button" class="secondary validity" onClick={toggleValidity}>
            {m.state === 'invalid' ? 'Restore' : 'Invalidate'}
          </button>
          <button type="button" class="danger" onClick={remove}>
            Delete
          </button>
        </div>
        <ErrorBox error={error} what="The change failed" />
      </aside>
    </div>
  );
}

/** The Q-value over time: the value it started at, then each review that moved it (linked). */
function QHistory({ memory }: { memory: Memory }) {
  const { route } = useLocation();
  const history = useAsync(() => api.memoryHistory(memory.id), [memory.id, memory.q_value, memory.updated_at]);
  if (history.error) return <ErrorBox error={history.error} what="Could not load the Q history" />;
  if (!history.data) return <Loading />;
  // The chart and table show Q changes; edits, invalidations and merges keep Q and are listed under it.
  const entries: QValueChange[] = [...history.data].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const changes = entries.filter((c) => c.kind === 'q_update');
  const others = entries.filter((c) => c.kind !== 'q_update');
  const start = { at: memory.created_at, q: changes[0]?.q_before ?? memory.q_value, trace: memory.source_trace_id };
  const points = [start, ...changes.map((c) => ({ at: c.created_at, q: c.q_after, trace: c.trace_id as string | null }))];
  return (
    <div class="card q-history">
      <Chart
        title="Q-value history (click a point to open the run that moved it)"
        x={points.map((p) => Date.parse(p.at) / 1000)}
        series={[{ label: 'Q', color: '#2f5bd3', values: points.map((p) => p.q), unit: true }]}
        stepped
        onPointClick={(i) => {
          const trace = points[i]?.trace;
          if (trace) route(`/traces/${trace}`);
        }}
      />
      <table class="table compact q-changes">
        <thead>
          <tr>
            <th>When</th>
            <th>Q before → after</th>
            <th>Reward</th>
            <th>α</th>
            <th>Verdict by</th>
            <th>Run</th>
          </tr>
        </thead>
        <tbody>
          {changes.length === 0 ? (
            <tr>
              <td colSpan={6} class="muted">
                No review has moved this memory yet: it moves when a run that retrieved it is reviewed.
              </td>
            </tr>
          ) : null}
          {changes.map((c) => (
            <tr key={`${c.trace_id}-${c.created_at}`}>
              <td>
                <Time iso={c.created_at} />
              </td>
              <td>
                {c.q_before.toFixed(3)} → <strong>{c.q_after.toFixed(3)}</strong>
              </td>
              <td>{c.reward === 1 ? <Badge value="pass" /> : <Badge value="fail" />}</td>
              <td>{c.alpha}</td>
              <td>
                <VerdictBy detail={c.detail} />
              </td>
              <td>
                <a href={`/traces/${c.trace_id}`}>
                  <code>{short(c.trace_id)}</code>
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {others.length ? (
        <table class="table compact">
          <thead>
            <tr>
              <th>When</th>
              <th>Change</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            {others.map((c) => (
              <tr key={`${c.kind}-${c.created_at}`}>
                <td>
                  <Time iso={c.created_at} />
                </td>
                <td>
                  <Badge value={c.kind} /> {typeof c.detail.reason === 'string' ? c.detail.reason : ''}
                  {c.kind === 'review_override' && typeof c.detail.q_before === 'number' && typeof c.detail.q_after === 'number'
                    ? `Q ${c.detail.q_before.toFixed(3)} → ${c.detail.q_after.toFixed(3)} (a human verdict replaced the judge's)`
                    : ''}
                </td>
                <td>{c.actor.type === 'api_key' ? c.actor.label : c.trace_id ? <a href={`/traces/${c.trace_id}`}>review</a> : 'learning loop'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** Whose verdict a Q-update applied: the judge's, or a human's (one that replaced the judge's says what the judge had done). */
function VerdictBy({ detail }: { detail: Record<string, unknown> }) {
  const overridden = detail.overridden as { reward?: number; q_after?: number } | undefined;
  if (detail.review_source === 'judge') return <Badge value="judge" />;
  if (!overridden) return <span class="muted">human</span>;
  return (
    <span title={`The judge's ${overridden.reward === 1 ? 'pass' : 'fail'} had moved Q to ${overridden.q_after?.toFixed(3)}`}>
      human <span class="muted">(overrode the judge)</span>
    </span>
  );
}

const TEXT_FIELDS = ['task', 'reflection', 'summary', 'key_mistake', 'correct_action', 'guidance'] as const;
const LIST_FIELDS = ['tags', 'applicable_tools', 'tools_used'] as const;

function EditMemory({ memory, onDone }: { memory: Memory; onDone: (m: Memory | null) => void }) {
  const [draft, setDraft] = useState<Record<string, string>>(() => ({
    ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, memory[f]])),
    ...Object.fromEntries(LIST_FIELDS.map((f) => [f, memory[f].join(', ')])),
  }));
  const [error, setError] = useState<unknown>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    for (const f of TEXT_FIELDS) if (draft[f] !== memory[f]) body[f] = draft[f];
    for (const f of LIST_FIELDS) {
      const list = (draft[f] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (list.join(',') !== memory[f].join(',')) body[f] = list;
    }
    if (Object.keys(body).length === 0) return onDone(null);
    try {
      onDone(await api.updateMemory(memory.id, body as Partial<Memory>));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card edit-form" onSubmit={save}>
      {TEXT_FIELDS.map((f) => (
        <label key={f}>
          {f.replace('_', ' ')}
          <textarea rows={f === 'reflection' ? 6 : 2} value={draft[f]} onInput={(e) => setDraft({ ...draft, [f]: (e.target as HTMLTextAreaElement).value })} />
        </label>
      ))}
      {LIST_FIELDS.map((f) => (
        <label key={f}>
          {f.replace('_', ' ')} (comma-separated)
          <input value={draft[f]} onInput={(e) => setDraft({ ...draft, [f]: (e.target as HTMLInputElement).value })} />
        </label>
      ))}
      <ErrorBox error={error} what="Could not save" />
      <div class="actions">
        <button type="submit">Save</button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
