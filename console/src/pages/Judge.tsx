import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import { ApiError } from '../api/errors.ts';
import type { JudgeSettings } from '../api/types.ts';
import { AgreementPanel } from '../components/JudgeAgreement.tsx';
import { JudgeBacklog } from '../components/JudgeBacklog.tsx';
import { useAsync } from '../components/useAsync.ts';
import { ErrorBox, Loading } from '../components/ui.tsx';

interface Draft {
  enabled: boolean;
  rubric: string;
  model: string;
  alpha: string;
  filter: string;
}

const draftOf = (s: JudgeSettings): Draft => ({
  enabled: s.enabled,
  rubric: s.rubric ?? '',
  model: s.model ?? '',
  alpha: s.alpha === null ? '' : String(s.alpha),
  filter: s.metadata_filter === null ? '' : JSON.stringify(s.metadata_filter, null, 2),
});

/** The form's fields as the PATCH body: an empty field returns the setting to its default (null). */
function bodyOf(d: Draft): { body?: Parameters<typeof api.updateJudgeSettings>[0]; problem?: string } {
  let filter: Record<string, unknown> | null = null;
  if (d.filter.trim()) {
    try {
      filter = JSON.parse(d.filter) as Record<string, unknown>;
    } catch {
      return { problem: 'The metadata filter is not valid JSON.' };
    }
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return { problem: 'The metadata filter must be a JSON object, e.g. {"env": "prod"}.' };
  }
  const alpha = d.alpha.trim() ? Number(d.alpha) : null;
  if (alpha !== null && !(alpha > 0 && alpha <= 1)) return { problem: 'Alpha must be a number with 0 < α ≤ 1.' };
  return { body: { enabled: d.enabled, rubric: d.rubric.trim() ? d.rubric : null, model: d.model.trim() || null, alpha, metadata_filter: filter } };
}

/**
 * The project's judge: the server's LLM reviews each new unreviewed trace (or those whose metadata
 * matches the filter) against the rubric, at its own alpha. People override it from a trace's page.
 */
export function JudgePage() {
  const settings = useAsync(() => api.judgeSettings(), []);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [days, setDays] = useState(30);
  useEffect(() => {
    if (settings.data) setDraft(draftOf(settings.data));
  }, [settings.data]);

  if (settings.error) return <ErrorBox error={settings.error} what="Could not load the judge's settings" />;
  const s = settings.data;
  if (!s || !draft) return <Loading />;

  const edit = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setSaved(null);
  };
  async function save(e: Event) {
    e.preventDefault();
    const { body, problem } = bodyOf(draft!);
    if (!body) {
      setError(new Error(problem));
      return;
    }
    setSaving(true);
    setError(null);
    try {
      const next = await api.updateJudgeSettings(body);
      settings.set(next);
      setSaved(next.enabled ? 'Saved. New unreviewed traces are judged.' : 'Saved. The judge is off.');
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section class="judge">
      <h1>Judge</h1>
      <p class="muted">
        An LLM reviews each new trace that arrives without a review: it reads the task, the conversation, the final response and the reference context, grades them against your rubric and
        answers pass or fail with a short reason. Its verdict is applied like a review (a lesson, Q-updates) with its own, lower alpha and marked as the judge's. Anyone may override it from
        the trace's page; the Q-values are then corrected as if the human verdict had come first.
      </p>
      <form class="card judge-form edit-form" onSubmit={save}>
        <label class="switch">
          <input type="checkbox" id="judge-enabled" role="switch" checked={draft.enabled} onChange={(e) => edit({ enabled: (e.target as HTMLInputElement).checked })} />
          <span>{draft.enabled ? 'On: new unreviewed traces are judged' : 'Off: traces wait for people'}</span>
        </label>
        <label>
          Rubric (what a run must do to pass; required while on)
          <textarea
            id="judge-rubric"
            rows={6}
            value={draft.rubric}
            placeholder="Pass only if the final answer is correct and complete; fail if it guesses or ignores the reference context."
            onInput={(e) => edit({ rubric: (e.target as HTMLTextAreaElement).value })}
          />
        </label>
        <div class="row">
          <label>
            Model
            <input id="judge-model" value={draft.model} placeholder={`${s.effective.model} (server default)`} onInput={(e) => edit({ model: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Alpha of its verdicts
            <input
              id="judge-alpha"
              class="narrow"
              type="number"
              min="0.01"
              max="1"
              step="0.01"
              value={draft.alpha}
              placeholder="0.1"
              onInput={(e) => edit({ alpha: (e.target as HTMLInputElement).value })}
            />
          </label>
        </div>
        <label>
          Judge only traces whose metadata contains (JSON object; empty = every unreviewed trace)
          <textarea id="judge-filter" rows={3} class="mono" value={draft.filter} placeholder='{"env": "prod"}' onInput={(e) => edit({ filter: (e.target as HTMLTextAreaElement).value })} />
        </label>
        <p class="muted small">
          In effect: model <code>{s.effective.model}</code>, α {s.effective.alpha}
          {s.metadata_filter ? <>, traces matching {JSON.stringify(s.metadata_filter)}</> : ', every unreviewed trace'}.
        </p>
        <JudgeError error={error} />
        {saved ? (
          <p class="notice" role="status">
            {saved}
          </p>
        ) : null}
        <div class="actions">
          <button type="submit" disabled={saving}>
            Save
          </button>
          <button type="button" class="secondary" disabled={saving} onClick={() => setDraft(draftOf(s))}>
            Undo changes
          </button>
        </div>
      </form>
      {/* Keyed by the count: a save that changes the filter or switches the judge on shows the new backlog. */}
      {s.enabled ? <JudgeBacklog key={`${s.backlog}-${JSON.stringify(s.metadata_filter)}`} waiting={s.backlog} /> : null}
      <div class="row">
        <h2>How far it can be trusted</h2>
        <select aria-label="Window" id="agreement-days" value={days} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          {[7, 30, 90, 365].map((d) => (
            <option key={d} value={d}>
              last {d} days
            </option>
          ))}
        </select>
      </div>
      <AgreementPanel days={days} />
    </section>
  );
}

function JudgeError({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.code === 'llm_not_configured') {
    return (
      <div class="error llm-missing" role="alert">
        <strong>The judge cannot be switched on (400): </strong>
        this server has no LLM key. Set <code>OPENAI_API_KEY</code> (and <code>OPENAI_BASE_URL</code> for another OpenAI-compatible server) and restart it. ({error.message})
      </div>
    );
  }
  return <ErrorBox error={error} what="Not saved" />;
}
