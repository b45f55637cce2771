import { useEffect } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import { JudgeOverride } from '../components/JudgeOverride.tsx';
import { TraceView } from '../components/TraceView.tsx';
import { useAsync } from '../components/useAsync.ts';
import { ErrorBox, Loading } from '../components/ui.tsx';

export function TracePage({ id }: { id: string }) {
  const trace = useAsync(() => api.trace(id), [id]);
  const t = trace.data;
  // While the worker owes the trace work (its review, the judge, a rewrite after an override), the page follows it.
  const working = t?.ingest_status === 'queued' || t?.ingest_status === 'processing';
  useEffect(() => {
    if (!working) return;
    const timer = setTimeout(trace.reload, 1500);
    return () => clearTimeout(timer);
  }, [t, working]);
  return (
    <section>
      <p class="crumbs">
        <a href="/traces">Traces</a> /
      </p>
      <h1>Trace</h1>
      <ErrorBox error={trace.error} what="Could not load the trace" />
      {t?.review?.source === 'judge' ? <JudgeOverride key={t.id} trace={t} onChange={trace.set} /> : null}
      {t ? <TraceView trace={t} onChange={trace.set} /> : trace.loading ? <Loading /> : null}
    </section>
  );
}
