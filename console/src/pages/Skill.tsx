import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import type { Skill } from '../api/types.ts';
import { useAsync } from '../components/useAsync.ts';
import { Badge, Empty, ErrorBox, Loading, Time } from '../components/ui.tsx';

/**
 * The project's Skill: the guide distilled from its best memories. Shows a version (the latest
 * ready one by default) as its Markdown source, every version, and Build / Refine.
 */
export function SkillPage() {
  const [refresh, setRefresh] = useState(0);
  const [selected, setSelected] = useState<number | null>(null);
  const versions = useAsync(() => api.skillVersions(), [refresh]);
  const list = versions.data ?? [];
  const shown = list.find((v) => v.version === selected) ?? list.find((v) => v.status === 'ready') ?? list[0];
  const building = list.some((v) => v.status === 'building');

  // A build runs in the background: poll the list until it is over.
  useEffect(() => {
    if (!building) return;
    const timer = setTimeout(() => setRefresh((n) => n + 1), 1500);
    return () => clearTimeout(timer);
  }, [building, refresh]);

  return (
    <section>
      <h1>Skill</h1>
      <p class="muted">
        One guide for the agents of this project, distilled from its most useful reviewed memories: proven strategies from passed runs, pitfalls from
        failed ones. Agents fetch it with the SDK's <code>get_skill()</code> and put it in their system prompt.
      </p>
      <BuildForm hasOne={list.length > 0} building={building} onStarted={(v) => (setSelected(v), setRefresh((n) => n + 1))} />
      <ErrorBox error={versions.error} what="Could not load the Skill" />
      {versions.loading && !versions.data ? <Loading /> : null}
      {versions.data && list.length === 0 ? <Empty title="No Skill yet">Build one once the project has at least 5 reviewed memories.</Empty> : null}
      {shown ? (
        <div class="memory-layout">
          <SkillVersion skill={shown} />
          <aside class="card facts">
            <div class="card-title">Versions</div>
            <table class="table compact skill-versions">
              <tbody>
                {list.map((v) => (
                  <tr key={v.version} class={v.version === shown.version ? 'active' : ''}>
                    <td>
                      <a href="#" onClick={(e) => (e.preventDefault(), setSelected(v.version))}>
                        v{v.version}
                      </a>
                    </td>
                    <td>
                      <Badge value={v.status} />
                    </td>
                    <td>
                      <Time iso={v.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </aside>
        </div>
      ) : null}
    </section>
  );
}

function BuildForm({ hasOne, building, onStarted }: { hasOne: boolean; building: boolean; onStarted: (version: number) => void }) {
  const [instructions, setInstructions] = useState('');
  const [error, setError] = useState<unknown>(null);
  const start = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const started = await api.buildSkill(instructions.trim() || null);
      setInstructions('');
      onStarted(started.version);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card filters" onSubmit={start}>
      {hasOne ? (
        <label>
          What should the next version change? (optional)
          <input value={instructions} onInput={(e) => setInstructions((e.target as HTMLInputElement).value)} placeholder="Shorter; group by tool" />
        </label>
      ) : null}
      <button type="submit" disabled={building}>
        {building ? 'Building…' : hasOne ? 'Refine' : 'Build the Skill'}
      </button>
      <ErrorBox error={error} what="Could not start the build" />
    </form>
  );
}

function SkillVersion({ skill: s }: { skill: Skill }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([s.markdown], { type: 'text/markdown' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${s.name}-skill-v${s.version}.md`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div class="card">
      <div class="card-title">
        v{s.version} · <Badge value={s.status} /> {s.source ? <span class="muted">written by {s.source === 'llm' ? 'the LLM' : 'the template'}</span> : null}
      </div>
      {s.description ? <p>{s.description}</p> : null}
      <p class="muted">
        Built from {s.built_from.strategies ?? 0} strategies and {s.built_from.pitfalls ?? 0} pitfalls ({s.built_from.runs ?? 0} runs)
        {s.instructions ? `; asked: “${s.instructions}”` : ''}.
      </p>
      {s.error ? <ErrorBox error={new Error(s.error)} what="The build failed" /> : null}
      {s.status === 'building' ? <Loading label="Building…" /> : null}
      {s.status === 'ready' ? (
        <>
          <pre class="skill-markdown">{s.markdown}</pre>
          <div class="actions">
            <button type="button" class="secondary" onClick={download}>
              Download .md
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}
