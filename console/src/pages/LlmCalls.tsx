import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import { useAsync } from '../components/useAsync.ts';
import { Badge, Empty, ErrorBox, Loading, short, Time } from '../components/ui.tsx';

export function LlmCallsPage() {
  const [purpose, setPurpose] = useState('');
  const [outcome, setOutcome] = useState<'' | 'ok' | 'error'>('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const calls = useAsync(() => api.llmCalls({ purpose: purpose || undefined, outcome: outcome || undefined }, cursor), [purpose, outcome, cursor]);
  const items = calls.data?.items ?? [];
  const tokens = items.reduce((sum, c) => sum + c.tokens_in + c.tokens_out, 0);
  return (
    <section>
      <h1>LLM usage</h1>
      <p class="muted">Every call this server made to a language model: reflections, the reflect agent, mental-model refreshes.</p>
      <div class="filters card">
        <label>
          Purpose
          <input value={purpose} onChange={(e) => (setPurpose((e.target as HTMLInputElement).value), setCursors([null]))} placeholder="reflection" />
        </label>
        <label>
          Outcome
          <select value={outcome} onChange={(e) => (setOutcome((e.target as HTMLSelectElement).value as '' | 'ok' | 'error'), setCursors([null]))}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="error">error</option>
          </select>
        </label>
        {items.length ? <span class="muted">{tokens.toLocaleString()} tokens on this page</span> : null}
      </div>
      <ErrorBox error={calls.error} what="Could not load LLM calls" />
      {calls.loading && !calls.data ? <Loading /> : null}
      {calls.data && items.length === 0 ? <Empty title="No LLM calls recorded">Calls appear here once the server reflects on a review or answers a reflect request with a configured model.</Empty> : null}
      {items.length ? (
        <table class="table">
          <thead>
            <tr>
              <th>When</th>
              <th>Purpose</th>
              <th>Model</th>
              <th class="num">Tokens in</th>
              <th class="num">Tokens out</th>
              <th class="num">Latency</th>
              <th>Outcome</th>
              <th>For</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td>
                  <Time iso={c.created_at} />
                </td>
                <td>{c.purpose}</td>
                <td>{c.model}</td>
                <td class="num">{c.tokens_in.toLocaleString()}</td>
                <td class="num">{c.tokens_out.toLocaleString()}</td>
                <td class="num">{c.latency_ms.toLocaleString()} ms</td>
                <td>
                  <Badge value={c.outcome} kind={c.outcome === 'ok' ? 'pass' : 'fail'} />
                  {c.error ? <span class="error-text small"> {c.error}</span> : null}
                </td>
                <td>
                  {c.trace_id ? (
                    <a href={`/traces/${c.trace_id}`}>
                      trace <code>{short(c.trace_id)}</code>
                    </a>
                  ) : c.request_id ? (
                    <span class="muted">request {short(c.request_id)}</span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div class="pager">
        <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">page {cursors.length}</span>
        <button type="button" class="secondary" disabled={!calls.data?.nextCursor} onClick={() => setCursors([...cursors, calls.data!.nextCursor])}>
          Older →
        </button>
      </div>
    </section>
  );
}
