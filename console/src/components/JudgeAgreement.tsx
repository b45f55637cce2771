import { api } from '../api/endpoints.ts';
import { ApiError } from '../api/errors.ts';
import type { JudgeAgreement } from '../api/types.ts';
import { useAsync } from './useAsync.ts';
import { Badge, ErrorBox, Loading, percent, Time } from './ui.tsx';

const figure = (value: number | null, digits = 2) => (value === null ? '—' : value.toFixed(digits));

/**
 * How far the judge agrees with people over the last `days` days (GET …/judge/agreement): the figures,
 * the confusion matrix, and the disagreements, each linking to its trace. A key that may not read
 * the project's settings (no memories:read) sees a short note instead.
 */
export function AgreementPanel({ days = 30, compactWhenEmpty = false }: { days?: number; compactWhenEmpty?: boolean }) {
  const agreement = useAsync(() => api.judgeAgreement({ since: new Date(Date.now() - days * 86_400_000).toISOString() }), [days]);
  if (agreement.error instanceof ApiError && agreement.error.status === 403) return <p class="muted small">This key may not read the judge's figures (memories:read).</p>;
  if (agreement.error) return <ErrorBox error={agreement.error} what="Could not load the judge's agreement" />;
  const a = agreement.data;
  if (!a) return <Loading />;
  if (a.judged === 0 && a.with_human === 0) {
    return (
      <p class="muted judge-empty">
        The judge gave no verdict in the last {days} days. {compactWhenEmpty ? <a href="/judge">Set up the judge</a> : 'Switch it on above; its verdicts appear here.'}
      </p>
    );
  }
  return <Agreement a={a} />;
}

function Agreement({ a }: { a: JudgeAgreement }) {
  const c = a.confusion;
  const figures: [string, string, string, string][] = [
    ['judged', 'Judged', a.judged.toLocaleString(), 'traces the judge gave a verdict'],
    ['pairs', 'With a human verdict', a.with_human.toLocaleString(), 'judged traces a person also reviewed (confirmed or overrode)'],
    ['agreement', 'Agreement', percent(a.agreement_rate), 'share of those where judge and human agree'],
    ['kappa', "Cohen's κ", figure(a.kappa), 'agreement beyond chance: 1 perfect, 0 chance, below 0 worse than chance'],
    ['precision', 'Precision', figure(a.precision), "of the judge's passes, the share people passed too"],
    ['recall', 'Recall', figure(a.recall), "of people's passes, the share the judge passed too"],
    ['f1', 'F1', figure(a.f1), 'harmonic mean of precision and recall (pass is the positive class)'],
  ];
  return (
    <div class="agreement">
      <div class="agreement-figures">
        {figures.map(([key, label, value, title]) => (
          <div key={key} class="figure" data-figure={key} title={title}>
            <span class="tile-label">{label}</span>
            <span class="figure-value">{value}</span>
          </div>
        ))}
      </div>
      <div class="agreement-detail">
        <table class="table compact confusion" aria-label="Confusion matrix">
          <thead>
            <tr>
              <th />
              <th>human pass</th>
              <th>human fail</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th>judge pass</th>
              <td class="num agree" data-cell="pass-pass">{c.judge_pass_human_pass}</td>
              <td class="num disagree" data-cell="pass-fail">{c.judge_pass_human_fail}</td>
            </tr>
            <tr>
              <th>judge fail</th>
              <td class="num disagree" data-cell="fail-pass">{c.judge_fail_human_pass}</td>
              <td class="num agree" data-cell="fail-fail">{c.judge_fail_human_fail}</td>
            </tr>
          </tbody>
        </table>
        <p class="muted small">
          Pairs are judged traces whose review in force is a person's; the judge's own verdict is kept when a person overrides it. <a href="/traces?review_source=judge">Judge's verdicts no person has checked</a>.
        </p>
      </div>
      <h3>Disagreements{a.disagreements.length ? ` (${a.disagreements.length}${a.disagreements.length === 50 ? ', newest' : ''})` : ''}</h3>
      {a.disagreements.length === 0 ? (
        <p class="muted small">None: where a person reviewed a judged trace, they agreed with the judge.</p>
      ) : (
        <table class="table disagreements">
          <thead>
            <tr>
              <th>Task</th>
              <th>Judge</th>
              <th>Human</th>
              <th>Reviewer</th>
              <th>Reviewed</th>
            </tr>
          </thead>
          <tbody>
            {a.disagreements.map((d) => (
              <tr key={d.trace_id} data-trace-id={d.trace_id}>
                <td class="task-cell">
                  <a href={`/traces/${d.trace_id}`}>{d.task.length > 140 ? `${d.task.slice(0, 140)}…` : d.task}</a>
                </td>
                <td>
                  <Badge value={d.judge_result} /> <span class="muted small">{d.judge_reason ?? ''}</span>
                </td>
                <td>
                  <Badge value={d.human_result} /> <span class="muted small">{d.human_feedback ?? ''}</span>
                </td>
                <td>{d.reviewer?.label ?? <span class="muted">—</span>}</td>
                <td>
                  <Time iso={d.reviewed_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
