import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import type { Trace } from '../api/types.ts';
import { Conversation } from './Conversation.tsx';
import { useAsync } from './useAsync.ts';
import { Badge, ErrorBox, Folded, JsonBlock, QValue, short, Time } from './ui.tsx';

/** One trace: the task, the conversation, and everything the server knows about the run. */
export function TraceView({ trace, onChange }: { trace: Trace; onChange?: (t: Trace) => void }) {
  return (
    <div class="trace-view">
      <div class="trace-main">
        <div class="card">
          <div class="card-title">Task</div>
          <Folded text={trace.task} limit={1500} />
        </div>
        <Conversation messages={trace.trajectory} finalResponse={trace.final_response} />
      </div>
      <aside class="trace-side">
        <TraceFacts trace={trace} onChange={onChange} />
      </aside>
    </div>
  );
}

function TraceFacts({ trace, onChange }: { trace: Trace; onChange?: (t: Trace) => void }) {
  const [retryError, setRetryError] = useState<unknown>(null);
  const retry = async () => {
    setRetryError(null);
    try {
      onChange?.(await api.retry(trace.id));
    } catch (e) {
      setRetryError(e);
    }
  };
  return (
    <div class="card facts">
      <dl>
        <dt>Trace</dt>
        <dd>
          <a href={`/traces/${trace.id}`}>
            <code>{trace.id}</code>
          </a>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={trace.created_at} />
        </dd>
        <dt>Model</dt>
        <dd>{trace.model ?? <span class="muted">—</span>}</dd>
        <dt>Review</dt>
        <dd>
          <Badge value={trace.review_status} />{' '}
          {trace.review ? (
            <>
              <Badge value={trace.review.result} /> <span class="muted">α {trace.review.alpha}</span>
            </>
          ) : null}
        </dd>
        {trace.review ? (
          <>
            <dt>Reviewed by</dt>
            <dd class="reviewer">
              {trace.review.source === 'judge' ? (
                <>
                  <Badge value="judge" /> the server's judge{trace.judge?.model ? <> ({trace.judge.model})</> : null}
                </>
              ) : trace.review.reviewer ? (
                <>
                  {trace.review.reviewer.label} <code class="muted">{short(trace.review.reviewer.key_id)}</code>
                </>
              ) : (
                <span class="muted">unknown (sent with the trace or by an older server)</span>
              )}{' '}
              · <Time iso={trace.review.created_at} />
              {trace.review.overridden_at ? (
                <span class="overridden">
                  {' '}
                  · <Badge value={trace.judge?.result === trace.review.result ? 'confirmed the judge' : 'overrode the judge'} kind="override" />{' '}
                  <Time iso={trace.review.overridden_at} />
                </span>
              ) : null}
            </dd>
            {trace.review.feedback_text ? (
              <>
                <dt>Feedback</dt>
                <dd>
                  <Folded text={trace.review.feedback_text} />
                </dd>
              </>
            ) : null}
          </>
        ) : null}
        {trace.lease ? (
          <>
            <dt>Open for review by</dt>
            <dd>
              {trace.lease.label} until <Time iso={trace.lease.expires_at} />
            </dd>
          </>
        ) : null}
        {trace.judge ? <JudgeFacts trace={trace} onRetry={retry} /> : null}
        <dt>Ingest</dt>
        <dd>
          <Badge value={trace.ingest_status} /> <span class="muted">{trace.ingest_attempts} attempt(s)</span>
          {trace.ingest_status === 'failed' ? (
            <button type="button" class="small" onClick={retry}>
              Retry
            </button>
          ) : null}
        </dd>
        {trace.last_ingest_error ? (
          <>
            <dt>Last error</dt>
            <dd class="error-text">{trace.last_ingest_error}</dd>
          </>
        ) : null}
        <dt>Created memory</dt>
        <dd>
          {trace.created_memory_id ? (
            <a href={`/memories/${trace.created_memory_id}`} class="created-memory">
              <code>{short(trace.created_memory_id)}</code>
            </a>
          ) : (
            <span class="muted">none yet</span>
          )}
        </dd>
      </dl>
      <ErrorBox error={retryError} what="Retry failed" />
      <RetrievedMemories ids={trace.retrieved_memory_ids} />
      {Object.keys(trace.metadata).length ? (
        <>
          <div class="card-title">Metadata</div>
          <JsonBlock value={trace.metadata} />
        </>
      ) : null}
      {trace.reference_context ? (
        <>
          <div class="card-title">Reference context</div>
          <Folded text={trace.reference_context} />
        </>
      ) : null}
    </div>
  );
}

/** The judge's own work: its verdict and reason stay here after a person overrides it. */
function JudgeFacts({ trace, onRetry }: { trace: Trace; onRetry: () => void }) {
  const judge = trace.judge!;
  return (
    <>
      <dt>Judge</dt>
      <dd class="judge-facts">
        <Badge value={judge.status} kind={judge.status === 'judged' ? 'completed' : judge.status} /> {judge.result ? <Badge value={judge.result} /> : null}{' '}
        <span class="muted">
          {judge.model ? `${judge.model} · ` : ''}
          {judge.attempts} attempt(s)
        </span>
        {judge.status === 'failed' && !trace.review ? (
          <button type="button" class="small" onClick={onRetry}>
            Judge again
          </button>
        ) : null}
      </dd>
      {judge.reason ? (
        <>
          <dt>Judge's reason</dt>
          <dd class="judge-reason">
            <Folded text={judge.reason} />
          </dd>
        </>
      ) : null}
      {judge.judged_at ? (
        <>
          <dt>Judged</dt>
          <dd>
            <Time iso={judge.judged_at} />
          </dd>
        </>
      ) : null}
      {judge.error ? (
        <>
          <dt>Judge error</dt>
          <dd class="error-text">{judge.error}</dd>
        </>
      ) : null}
    </>
  );
}

function RetrievedMemories({ ids }: { ids: string[] }) {
  const memories = useAsync(() => Promise.all(ids.slice(0, 50).map((id) => api.memory(id).catch(() => null))), [ids.join(',')]);
  return (
    <>
      <div class="card-title">Memories the run retrieved ({ids.length})</div>
      {ids.length === 0 ? <p class="muted small">None.</p> : null}
      <ul class="retrieved">
        {ids.slice(0, 50).map((id, i) => {
          const m = memories.data?.[i];
          return (
            <li key={id}>
              <a href={`/memories/${id}`}>
                <code>{short(id)}</code>
              </a>{' '}
              {m ? (
                <>
                  <QValue q={m.q_value} /> <span class="muted ellipsis">{m.task}</span>
                </>
              ) : memories.loading ? null : (
                <span class="muted">deleted</span>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
