import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import type { Directive, MentalModel, ReflectAnswer } from '../api/types.ts';
import { useAsync } from '../components/useAsync.ts';
import { Badge, Empty, ErrorBox, Folded, JsonBlock, Loading, Time } from '../components/ui.tsx';

const tagList = (s: string) => s.split(',').map((t) => t.trim()).filter(Boolean);

export function HindsightPage() {
  return (
    <section>
      <h1>Hindsight</h1>
      <p class="muted">The Hindsight-compatible side of this project's memory bank: ask the reflect agent, and curate its mental models and directives.</p>
      <ReflectPlayground />
      <MentalModels />
      <Directives />
    </section>
  );
}

function ReflectPlayground() {
  const [query, setQuery] = useState('');
  const [budget, setBudget] = useState<'low' | 'mid' | 'high'>('low');
  const [tags, setTags] = useState('');
  const [state, setState] = useState<{ busy: boolean; error: unknown; answer: ReflectAnswer | null; ms: number }>({ busy: false, error: null, answer: null, ms: 0 });
  const ask = async (e: Event) => {
    e.preventDefault();
    if (!query.trim()) return;
    const started = performance.now();
    setState({ busy: true, error: null, answer: null, ms: 0 });
    try {
      const answer = await api.reflect({ query, budget, tags: tags.trim() ? tagList(tags) : undefined });
      setState({ busy: false, error: null, answer, ms: Math.round(performance.now() - started) });
    } catch (error) {
      setState({ busy: false, error, answer: null, ms: 0 });
    }
  };
  const a = state.answer;
  return (
    <div class="card">
      <h2>Reflect playground</h2>
      <form class="search-form" onSubmit={ask}>
        <input class="grow" placeholder="Ask a question about what your agents learned" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} aria-label="Question" />
        <select value={budget} onChange={(e) => setBudget((e.target as HTMLSelectElement).value as 'low' | 'mid' | 'high')} aria-label="Budget">
          <option value="low">budget low</option>
          <option value="mid">budget mid</option>
          <option value="high">budget high</option>
        </select>
        <input placeholder="tags, comma-separated" value={tags} onInput={(e) => setTags((e.target as HTMLInputElement).value)} aria-label="Tags" />
        <button type="submit" disabled={state.busy}>
          {state.busy ? 'Thinking…' : 'Reflect'}
        </button>
      </form>
      <ErrorBox error={state.error} what="Reflect failed" />
      {a ? (
        <div class="reflect-answer">
          <div class="card-title">
            Answer <span class="muted">· {state.ms} ms · {a.usage.total_tokens.toLocaleString()} tokens</span>
          </div>
          <Folded text={a.text || '(no text)'} limit={4000} />
          <div class="card-title">Cited memories ({a.based_on?.memories.length ?? 0})</div>
          <ul class="retrieved">
            {(a.based_on?.memories ?? []).map((m) => (
              <li key={m.id}>
                <a href={`/memories/${m.id}`}>
                  <code>{m.id.slice(0, 8)}</code>
                </a>{' '}
                <Badge value={m.type} kind="tag" /> <span class="ellipsis">{m.text}</span>
              </li>
            ))}
          </ul>
          {a.based_on?.mental_models.length ? (
            <p class="small">Mental models used: {a.based_on.mental_models.map((m) => m.id).join(', ')}</p>
          ) : null}
          {a.based_on?.directives.length ? <p class="small">Directives applied: {a.based_on.directives.map((d) => d.name).join(', ')}</p> : null}
          <div class="card-title">Agent steps</div>
          <table class="table compact">
            <thead>
              <tr>
                <th>Step</th>
                <th>Tool</th>
                <th class="num">Time</th>
                <th>Input / output</th>
              </tr>
            </thead>
            <tbody>
              {(a.trace?.tool_calls ?? []).map((c, i) => (
                <tr key={i}>
                  <td>{c.iteration}</td>
                  <td>
                    <code>{c.tool}</code>
                  </td>
                  <td class="num">{Math.round(c.duration_ms)} ms</td>
                  <td>
                    <details class="fold">
                      <summary>details</summary>
                      <JsonBlock value={{ input: c.input, output: c.output }} />
                    </details>
                  </td>
                </tr>
              ))}
              {(a.trace?.llm_calls ?? []).map((c, i) => (
                <tr key={`llm${i}`}>
                  <td class="muted">LLM</td>
                  <td>{c.scope}</td>
                  <td class="num">{Math.round(c.duration_ms)} ms</td>
                  <td />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function MentalModels() {
  const models = useAsync(() => api.mentalModels(), []);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState({ name: '', source_query: '', tags: '' });
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      models.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="card">
      <h2>Mental models</h2>
      <ErrorBox error={models.error ?? error} />
      {models.loading && !models.data ? <Loading /> : null}
      {models.data?.length === 0 ? <Empty title="No mental models">A mental model is a standing question whose answer the reflect agent keeps; create one below.</Empty> : null}
      {(models.data ?? []).map((m) => (
        <MentalModelItem key={m.id} model={m} act={act} />
      ))}
      <form
        class="row create-row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.createMentalModel({ name: draft.name, source_query: draft.source_query, tags: tagList(draft.tags) });
            setDraft({ name: '', source_query: '', tags: '' });
          });
        }}
      >
        <input placeholder="Name" value={draft.name} onInput={(e) => setDraft({ ...draft, name: (e.target as HTMLInputElement).value })} aria-label="Mental model name" />
        <input class="grow" placeholder="Source question" value={draft.source_query} onInput={(e) => setDraft({ ...draft, source_query: (e.target as HTMLInputElement).value })} aria-label="Source question" />
        <input placeholder="tags" value={draft.tags} onInput={(e) => setDraft({ ...draft, tags: (e.target as HTMLInputElement).value })} aria-label="Tags" />
        <button type="submit">Add</button>
      </form>
    </div>
  );
}

function MentalModelItem({ model: m, act }: { model: MentalModel; act: (fn: () => Promise<unknown>) => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ name: m.name, source_query: m.source_query, content: m.content, tags: m.tags.join(', ') });
  if (editing)
    return (
      <form
        class="item edit-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => api.updateMentalModel(m.id, { ...draft, tags: tagList(draft.tags) })).then(() => setEditing(false));
        }}
      >
        <label>
          Name
          <input value={draft.name} onInput={(e) => setDraft({ ...draft, name: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          Source question
          <input value={draft.source_query} onInput={(e) => setDraft({ ...draft, source_query: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          Content
          <textarea rows={5} value={draft.content} onInput={(e) => setDraft({ ...draft, content: (e.target as HTMLTextAreaElement).value })} />
        </label>
        <label>
          Tags
          <input value={draft.tags} onInput={(e) => setDraft({ ...draft, tags: (e.target as HTMLInputElement).value })} />
        </label>
        <div class="actions">
          <button type="submit">Save</button>
          <button type="button" class="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </div>
      </form>
    );
  return (
    <div class="item">
      <div class="item-head">
        <strong>{m.name}</strong> <code class="muted">{m.id}</code> {m.tags.map((t) => <Badge key={t} value={t} kind="tag" />)}
        <span class="muted small"> refreshed <Time iso={m.last_refreshed_at} /></span>
        <span class="grow" />
        <button type="button" class="small secondary" onClick={() => act(() => api.refreshMentalModel(m.id))}>
          Refresh
        </button>
        <button type="button" class="small secondary" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" class="small danger" onClick={() => window.confirm(`Delete mental model "${m.name}"?`) && act(() => api.deleteMentalModel(m.id))}>
          Delete
        </button>
      </div>
      <p class="muted small">{m.source_query}</p>
      {m.content ? <Folded text={m.content} /> : <p class="muted small">No content yet: refresh to have the reflect agent write it.</p>}
    </div>
  );
}

function Directives() {
  const directives = useAsync(() => api.directives(), []);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState({ name: '', content: '', priority: '0' });
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      directives.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="card">
      <h2>Directives</h2>
      <ErrorBox error={directives.error ?? error} />
      {directives.loading && !directives.data ? <Loading /> : null}
      {directives.data?.length === 0 ? <Empty title="No directives">Directives are rules the reflect agent always follows, highest priority first.</Empty> : null}
      {(directives.data ?? []).map((d) => (
        <DirectiveItem key={d.id} directive={d} act={act} />
      ))}
      <form
        class="row create-row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.createDirective({ name: draft.name, content: draft.content, priority: Number(draft.priority) || 0, is_active: true });
            setDraft({ name: '', content: '', priority: '0' });
          });
        }}
      >
        <input placeholder="Name" value={draft.name} onInput={(e) => setDraft({ ...draft, name: (e.target as HTMLInputElement).value })} aria-label="Directive name" />
        <input class="grow" placeholder="Rule" value={draft.content} onInput={(e) => setDraft({ ...draft, content: (e.target as HTMLInputElement).value })} aria-label="Directive rule" />
        <input type="number" class="narrow" value={draft.priority} onInput={(e) => setDraft({ ...draft, priority: (e.target as HTMLInputElement).value })} aria-label="Priority" />
        <button type="submit">Add</button>
      </form>
    </div>
  );
}

function DirectiveItem({ directive: d, act }: { directive: Directive; act: (fn: () => Promise<unknown>) => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ name: d.name, content: d.content, priority: String(d.priority) });
  if (editing)
    return (
      <form
        class="item row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => api.updateDirective(d.id, { name: draft.name, content: draft.content, priority: Number(draft.priority) || 0 })).then(() => setEditing(false));
        }}
      >
        <input value={draft.name} onInput={(e) => setDraft({ ...draft, name: (e.target as HTMLInputElement).value })} aria-label="Name" />
        <input class="grow" value={draft.content} onInput={(e) => setDraft({ ...draft, content: (e.target as HTMLInputElement).value })} aria-label="Rule" />
        <input type="number" class="narrow" value={draft.priority} onInput={(e) => setDraft({ ...draft, priority: (e.target as HTMLInputElement).value })} aria-label="Priority" />
        <button type="submit">Save</button>
        <button type="button" class="secondary" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </form>
    );
  return (
    <div class={d.is_active ? 'item' : 'item inactive'}>
      <div class="item-head">
        <strong>{d.name}</strong> <span class="muted small">priority {d.priority}</span> {d.is_active ? null : <Badge value="inactive" kind="tag" />}
        <span class="grow" />
        <button type="button" class="small secondary" onClick={() => act(() => api.updateDirective(d.id, { is_active: !d.is_active }))}>
          {d.is_active ? 'Deactivate' : 'Activate'}
        </button>
        <button type="button" class="small secondary" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" class="small danger" onClick={() => window.confirm(`Delete directive "${d.name}"?`) && act(() => api.deleteDirective(d.id))}>
          Delete
        </button>
      </div>
      <div class="text">{d.content}</div>
    </div>
  );
}
