import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import { ApiError } from '../api/errors.ts';
import type { ReviewResult, Trace } from '../api/types.ts';
import { TraceView } from '../components/TraceView.tsx';
import { Empty, ErrorBox, Loading } from '../components/ui.tsx';

const KEYS: [string, string][] = [
  ['j', 'next trace (newer)'],
  ['k', 'previous trace (older)'],
  ['p', 'mark pass'],
  ['f', 'mark fail'],
  ['e', 'write feedback (Esc leaves the box)'],
  ['Enter', 'submit the review and open the next trace'],
  ['?', 'show or hide these keys'],
];

type State = { kind: 'loading' } | { kind: 'empty' } | { kind: 'trace'; trace: Trace; leaseUntil: string | null };

/**
 * The review queue: pending traces one at a time, oldest first, each leased to this key while it
 * is open (so two reviewers never get the same trace). Driven entirely from the keyboard.
 */
export function ReviewPage() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [result, setResult] = useState<ReviewResult | null>(null);
  const [feedback, setFeedback] = useState('');
  const [alpha, setAlpha] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [busy, setBusy] = useState(false);
  const feedbackBox = useRef<HTMLTextAreaElement>(null);

  /** Claims the next trace (or the one after/before the open one); `message` says what just happened. */
  async function open(position: { after?: string; before?: string } = {}, message: string | null = null) {
    setError(null);
    setBusy(true);
    try {
      let claimed = await api.claim(position);
      // After a review, nothing newer: wrap around to any older trace that was skipped.
      if (!claimed && message && position.after) claimed = await api.claim();
      setDone(message);
      if (claimed) {
        setState({ kind: 'trace', trace: claimed.trace, leaseUntil: claimed.lease_expires_at });
        setResult(null);
        setFeedback('');
        window.scrollTo(0, 0);
      } else if (!message && (position.after || position.before)) {
        setDone(position.after ? 'No newer pending trace.' : 'No older pending trace.');
      } else setState({ kind: 'empty' });
    } catch (e) {
      setError(e);
      if (state.kind === 'loading') setState({ kind: 'empty' });
    } finally {
      setBusy(false);
    }
  }

  async function submit() {
    if (state.kind !== 'trace' || busy) return;
    if (!result) {
      setError(new Error('Choose pass (p) or fail (f) first.'));
      return;
    }
    setBusy(true);
    setError(null);
    const id = state.trace.id;
    try {
      await api.review(id, { result, feedback_text: feedback.trim() || null, alpha });
      setBusy(false);
      await open({ after: id }, `Reviewed ${id.slice(0, 8)} as ${result}.`);
    } catch (e) {
      setBusy(false);
      setError(e);
    }
  }

  useEffect(() => {
    void open();
    return () => void api.releaseClaim().catch(() => undefined);
  }, []);

  // Latest handlers for the one keydown listener below.
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keys.current = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if (typing) {
      if (e.target === feedbackBox.current && e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        void submit();
      } else if (e.key === 'Escape') (e.target as HTMLElement).blur();
      return;
    }
    const current = state.kind === 'trace' ? state.trace.id : undefined;
    const action: Record<string, () => void> = {
      j: () => current && void open({ after: current }),
      k: () => current && void open({ before: current }),
      p: () => setResult('pass'),
      f: () => setResult('fail'),
      e: () => feedbackBox.current?.focus(),
      Enter: () => void submit(),
      '?': () => setHelp((h) => !h),
      Escape: () => setHelp(false),
    };
    const run = action[e.key];
    if (!run) return;
    e.preventDefault();
    run();
  };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  return (
    <section class="review">
      <div class="review-head">
        <h1>Review queue</h1>
        <button type="button" class="secondary small" onClick={() => setHelp(!help)}>
          Keys (?)
        </button>
        <a class="judge-link small" href="/traces?review_source=judge">
          Traces the judge reviewed: confirm or override →
        </a>
      </div>
      {help ? <KeyHelp onClose={() => setHelp(false)} /> : null}
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
      <ReviewError error={error} />
      {state.kind === 'loading' ? <Loading /> : null}
      {state.kind === 'empty' ? (
        <Empty title="Nothing to review">Every pending trace has a review, or another reviewer has the rest open. New traces appear here as your agent sends them.</Empty>
      ) : null}
      {state.kind === 'trace' ? (
        <>
          <form
            class="card review-bar"
            onSubmit={(e) => {
              e.preventDefault();
              void submit();
            }}
          >
            <div class="verdict" role="radiogroup" aria-label="Verdict">
              <button type="button" role="radio" aria-checked={result === 'pass'} class={result === 'pass' ? 'pass chosen' : 'pass'} onClick={() => setResult('pass')}>
                Pass <kbd>p</kbd>
              </button>
              <button type="button" role="radio" aria-checked={result === 'fail'} class={result === 'fail' ? 'fail chosen' : 'fail'} onClick={() => setResult('fail')}>
                Fail <kbd>f</kbd>
              </button>
            </div>
            <textarea
              ref={feedbackBox}
              id="feedback"
              rows={2}
              placeholder="Feedback (optional): what was right or wrong. Press e to write, Enter to submit."
              value={feedback}
              onInput={(e) => setFeedback((e.target as HTMLTextAreaElement).value)}
            />
            <label class="alpha">
              α {alpha === null ? 'default' : alpha.toFixed(2)}
              <input
                type="range"
                min="0.05"
                max="1"
                step="0.05"
                value={alpha ?? 0.3}
                onInput={(e) => setAlpha(Number((e.target as HTMLInputElement).value))}
                aria-label="Learning rate alpha"
              />
            </label>
            <button type="submit" disabled={busy || !result}>
              Submit <kbd>Enter</kbd>
            </button>
          </form>
          <p class="muted small">
            <button type="button" class="link-button" onClick={() => open({ before: state.trace.id })}>
              ← older (k)
            </button>{' '}
            <button type="button" class="link-button" onClick={() => open({ after: state.trace.id })}>
              newer (j) →
            </button>
            {state.leaseUntil ? <> · open for you until {new Date(state.leaseUntil).toLocaleTimeString()}</> : null}
          </p>
          <TraceView trace={state.trace} />
        </>
      ) : null}
    </section>
  );
}

function ReviewError({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 409) {
    return (
      <div class="error conflict" role="alert">
        <strong>409 Conflict — not reviewed: </strong>
        {error.code === 'trace_leased' ? 'another reviewer has this trace open' : 'this trace already has a review'} ({error.message.replace(/\.$/, '')}). Press <kbd>j</kbd> for
        the next trace.
      </div>
    );
  }
  return <ErrorBox error={error} />;
}

function KeyHelp({ onClose }: { onClose: () => void }) {
  return (
    <div class="card keyhelp" role="dialog" aria-label="Keyboard shortcuts">
      <table>
        <tbody>
          {KEYS.map(([key, what]) => (
            <tr key={key}>
              <td>
                <kbd>{key}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="secondary small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
