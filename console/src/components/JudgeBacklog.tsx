import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import { ErrorBox } from './ui.tsx';

/** The server queues at most this many per request (POST …/judge/backlog's limit). */
const MAX_PER_REQUEST = 1000;

const traces = (n: number) => `${n} unreviewed ${n === 1 ? 'trace' : 'traces'}`;

/**
 * The traces that were waiting before the judge was switched on (or that its filter did not
 * match then) are not judged on their own: this offers to queue them, at most 1000 at a time.
 */
export function JudgeBacklog({ waiting }: { waiting: number }) {
  const [left, setLeft] = useState(waiting);
  const [busy, setBusy] = useState(false);
  const [queued, setQueued] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function judgeThem() {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.queueJudgeBacklog(Math.min(left, MAX_PER_REQUEST));
      setQueued(answer.queued);
      setLeft(Math.max(0, left - answer.queued));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (left === 0 && queued === null) return null;
  const batch = Math.min(left, MAX_PER_REQUEST);
  return (
    <div class="card judge-backlog">
      {left > 0 ? (
        <>
          <p>
            {traces(left)} the judge has never looked at {left === 1 ? 'is' : 'are'} waiting (it judges new arrivals only, unless asked).
          </p>
          <button type="button" id="judge-backlog" disabled={busy} onClick={judgeThem}>
            {left > MAX_PER_REQUEST ? `Judge the newest ${batch} of the ${traces(left)} waiting` : `Judge the ${traces(left)} waiting`}
          </button>
        </>
      ) : null}
      {queued !== null ? (
        <p class="notice" role="status">
          Queued {traces(queued)} for the judge; their verdicts appear on the traces as they come.
        </p>
      ) : null}
      {error ? <ErrorBox error={error} what="Not queued" /> : null}
    </div>
  );
}
