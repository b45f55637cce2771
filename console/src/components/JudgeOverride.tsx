import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import type { ReviewResult, Trace } from '../api/types.ts';
import { Badge, ErrorBox } from './ui.tsx';

/**
 * A person's answer to the judge's verdict on a trace: confirm it (the same verdict, now a human
 * one) or override it. Either replaces the judge's review once (POST /v1/traces/{id}/review); an
 * override corrects the Q-updates the judge applied and rewrites the lesson from the feedback.
 */
export function JudgeOverride({ trace, onChange }: { trace: Trace; onChange: (t: Trace) => void }) {
  const judged = trace.review!.result as ReviewResult;
  const other: ReviewResult = judged === 'pass' ? 'fail' : 'pass';
  const [feedback, setFeedback] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function send(result: ReviewResult) {
    setBusy(true);
    setError(null);
    try {
      onChange(await api.review(trace.id, { result, feedback_text: feedback.trim() || null }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card judge-verdict" role="region" aria-label="The judge's verdict">
      <div class="card-title">The judge's verdict</div>
      <p>
        <Badge value={judged} /> {trace.judge?.reason ?? trace.review!.feedback_text ?? ''}
      </p>
      <p class="muted small">Applied with α {trace.review!.alpha}. Your verdict replaces it (once); an override corrects the Q-values it moved and rewrites its lesson.</p>
      <div class="row">
        <textarea
          id="override-feedback"
          rows={2}
          value={feedback}
          placeholder="Your feedback (optional; an override's lesson is written from it)"
          onInput={(e) => setFeedback((e.target as HTMLTextAreaElement).value)}
        />
        <button type="button" class={`${judged} confirm`} disabled={busy} onClick={() => send(judged)}>
          Confirm {judged}
        </button>
        <button type="button" class={`${other} chosen override`} disabled={busy} onClick={() => send(other)}>
          Override: {other}
        </button>
      </div>
      <ErrorBox error={error} what="Not reviewed" />
    </div>
  );
}
