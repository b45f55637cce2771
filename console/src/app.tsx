import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { api } from './api/endpoints.ts';
import { keyPrefix, session } from './api/session.ts';
import type { Project } from './api/types.ts';
import { HindsightPage } from './pages/Hindsight.tsx';
import { JudgePage } from './pages/Judge.tsx';
import { KeysPage } from './pages/Keys.tsx';
import { LlmCallsPage } from './pages/LlmCalls.tsx';
import { MemoriesPage } from './pages/Memories.tsx';
import { MemoryPage } from './pages/Memory.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { ReviewPage } from './pages/Review.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { SkillPage } from './pages/Skill.tsx';
import { TracePage } from './pages/Trace.tsx';
import { TracesPage } from './pages/Traces.tsx';

const NAV = [
  ['/', 'Overview'],
  ['/review', 'Review queue'],
  ['/traces', 'Traces'],
  ['/memories', 'Memories'],
  ['/judge', 'Judge'],
  ['/skill', 'Skill'],
  ['/hindsight', 'Hindsight'],
  ['/llm-usage', 'LLM usage'],
  ['/keys', 'Keys'],
] as const;

export function App() {
  const [key, setKey] = useState(session.key());
  const [project, setProject] = useState(session.project());
  const [signedOutBecause, setReason] = useState<string | null>(null);
  useEffect(
    () =>
      session.subscribe((reason) => {
        setKey(session.key());
        setProject(session.project());
        if (reason) setReason(reason);
      }),
    [],
  );
  return (
    <LocationProvider>
      {key ? <Shell signedInAs={keyPrefix(key)} project={project} /> : <SignInPage notice={signedOutBecause} onSignedIn={() => setReason(null)} />}
    </LocationProvider>
  );
}

function Shell({ signedInAs, project }: { signedInAs: string; project: string | null }) {
  const { path } = useLocation();
  const [projects, setProjects] = useState<Project[] | null>(null);
  useEffect(() => {
    api.projects().then(setProjects, () => setProjects(null));
  }, [signedInAs]);
  const current = project ?? projects?.[0]?.slug ?? 'default';
  return (
    <div class="layout">
      <header class="topbar">
        <a href="/" class="brand">
          reflect<span>console</span>
        </a>
        <div class="project">
          <label for="project-select">Project</label>
          {projects && projects.length > 1 ? (
            <select id="project-select" value={current} onChange={(e) => session.setProject((e.target as HTMLSelectElement).value)}>
              {projects.map((p) => (
                <option key={p.id} value={p.slug}>
                  {p.slug} · {p.pending_review_count} to review
                </option>
              ))}
            </select>
          ) : (
            <strong id="project-select">{current}</strong>
          )}
        </div>
        <div class="whoami">
          <code>{signedInAs}</code>
          <button type="button" class="secondary small" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <nav class="sidebar" aria-label="Console">
        {NAV.map(([href, label]) => (
          <a key={href} href={href} class={(href === '/' ? path === '/' : path.startsWith(href)) ? 'active' : ''}>
            {label}
          </a>
        ))}
      </nav>
      <main class="content" key={current}>
        <Router>
          <Route path="/" component={OverviewPage} />
          <Route path="/review" component={ReviewPage} />
          <Route path="/traces" component={TracesPage} />
          <Route path="/traces/:id" component={TracePage} />
          <Route path="/memories" component={MemoriesPage} />
          <Route path="/memories/:id" component={MemoryPage} />
          <Route path="/judge" component={JudgePage} />
          <Route path="/skill" component={SkillPage} />
          <Route path="/hindsight" component={HindsightPage} />
          <Route path="/llm-usage" component={LlmCallsPage} />
          <Route path="/keys" component={KeysPage} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no console page here. <a href="/">Go to the overview</a>.
      </p>
    </section>
  );
}
