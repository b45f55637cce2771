import { api } from '../api/endpoints.ts';
import { Chart, daySeconds } from '../components/Chart.tsx';
import { AgreementPanel } from '../components/JudgeAgreement.tsx';
import { useAsync } from '../components/useAsync.ts';
import { Empty, ErrorBox, Loading, percent } from '../components/ui.tsx';

const PASS = '#1f9d55';
const FAIL = '#d64545';
const BLUE = '#2f5bd3';
const AMBER = '#c07a00';

export function OverviewPage() {
  const stats = useAsync(() => api.stats(30), []);
  if (stats.error) return <ErrorBox error={stats.error} what="Could not load the statistics" />;
  const s = stats.data;
  if (!s) return <Loading />;
  const x = s.days.map((d) => daySeconds(d.date));
  return (
    <section>
      <h1>Overview</h1>
      <div class="tiles">
        <Tile label="Traces" value={s.traces.toLocaleString()} href="/traces" />
        <Tile label="Pending reviews" value={s.pending_reviews.toLocaleString()} href="/review" />
        <Tile label="Memories" value={s.memories.toLocaleString()} href="/memories" />
        <Tile label="Pass rate" value={percent(s.pass_rate)} sub={`${s.passed} passed · ${s.failed} failed`} />
      </div>
      {s.traces === 0 ? (
        <Empty title="No traces yet">
          Send your agent's runs with <code>POST /v1/traces</code> (or the SDK's <code>create_trace</code>); they appear here and in the review queue.
        </Empty>
      ) : null}
      <section class="card judge-agreement" aria-label="The judge's agreement with people">
        <h2>
          The judge against people, last 30 days <a href="/judge" class="small">settings</a>
        </h2>
        <AgreementPanel compactWhenEmpty />
      </section>
      <div class="charts">
        <Chart
          title="Reviews per day"
          x={x}
          series={[
            { label: 'pass', color: PASS, values: s.days.map((d) => d.pass), bars: true },
            { label: 'fail', color: FAIL, values: s.days.map((d) => d.fail), bars: true },
          ]}
        />
        <Chart title="Pass rate per day (the learning curve)" x={x} series={[{ label: 'pass rate', color: PASS, values: s.days.map((d) => d.pass_rate), unit: true }]} />
        <Chart title="Memories created per day" x={x} series={[{ label: 'memories', color: BLUE, values: s.days.map((d) => d.memories_created), bars: true }]} />
        <Chart
          title="LLM calls (bars, left) and tokens (lines, right) per day"
          x={x}
          series={[
            { label: 'calls', color: AMBER, values: s.days.map((d) => d.llm_calls), bars: true },
            { label: 'tokens in', color: BLUE, values: s.days.map((d) => d.tokens_in), right: true },
            { label: 'tokens out', color: '#7a4fd3', values: s.days.map((d) => d.tokens_out), right: true },
          ]}
        />
        <Chart
          title="Q-value distribution (memories per 0.1 of Q)"
          x={s.q_histogram.map((b) => (b.from + b.to) / 2)}
          series={[{ label: 'memories', color: BLUE, values: s.q_histogram.map((b) => b.count), bars: true }]}
          linear
        />
      </div>
    </section>
  );
}

function Tile({ label, value, sub, href }: { label: string; value: string; sub?: string; href?: string }) {
  const body = (
    <>
      <span class="tile-label">{label}</span>
      <span class="tile-value">{value}</span>
      {sub ? <span class="tile-sub muted">{sub}</span> : null}
    </>
  );
  return href ? (
    <a class="tile" href={href}>
      {body}
    </a>
  ) : (
    <div class="tile">{body}</div>
  );
}
