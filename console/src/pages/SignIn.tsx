import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import { ApiError } from '../api/errors.ts';
import { session } from '../api/session.ts';

export function SignInPage({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) return setError('Paste an API key.');
    setBusy(true);
    setError(null);
    try {
      const projects = await api.projects(candidate);
      session.signIn(candidate, projects.find((p) => p.slug === 'default')?.slug ?? projects[0]?.slug ?? null);
      onSignedIn();
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401
          ? 'That key was not accepted: it is unknown, mistyped or revoked.'
          : `Could not sign in: ${(e as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="signin">
      <form class="card signin-card" onSubmit={submit}>
        <h1>
          reflect<span>console</span>
        </h1>
        <p class="muted">Sign in with an API key. It stays in this tab only (session storage) and is sent to this server alone.</p>
        {notice ? (
          <div class="notice" role="status">
            {notice}
          </div>
        ) : null}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="rf_live_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          autoFocus
        />
        {error ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="muted small">
          No key yet? The server prints one on its first start, or run <code>reflect-server keys create</code>.
        </p>
      </form>
    </div>
  );
}
