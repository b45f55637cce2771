import { useState } from 'preact/hooks';
import { api } from '../api/endpoints.ts';
import type { CreatedApiKey } from '../api/types.ts';
import { useAsync } from '../components/useAsync.ts';
import { Badge, Empty, ErrorBox, Loading, Time } from '../components/ui.tsx';

const SCOPES = ['memories:read', 'memories:write', 'traces:read', 'traces:write', 'keys:manage'] as const;
type Scope = (typeof SCOPES)[number];

export function KeysPage() {
  const keys = useAsync(() => api.keys(), []);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const revoke = async (id: string, label: string) => {
    if (!window.confirm(`Revoke "${label}"? Anything using it fails from its next request on.`)) return;
    setError(null);
    try {
      await api.revokeKey(id);
      keys.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <h1>API keys</h1>
      <CreateKey
        onCreated={(k) => {
          setCreated(k);
          keys.reload();
        }}
      />
      {created ? <NewKey created={created} onClose={() => setCreated(null)} /> : null}
      <ErrorBox error={error} what="Revoke failed" />
      <ErrorBox error={keys.error} what="Could not list keys" />
      {keys.loading && !keys.data ? <Loading /> : null}
      {keys.data && keys.data.length === 0 ? <Empty title="No keys in this project" /> : null}
      {keys.data && keys.data.length > 0 ? (
        <table class="table keys-table">
          <thead>
            <tr>
              <th>Label</th>
              <th>Key</th>
              <th>Scopes</th>
              <th>Created</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id} class={k.revoked_at ? 'revoked' : ''} data-key-id={k.id}>
                <td>{k.label}</td>
                <td>
                  <code>{k.key_prefix}</code> {k.is_master ? <Badge value="master" kind="tag" /> : null} <Badge value={k.environment} kind="tag" />
                </td>
                <td class="small">{k.is_master ? 'all' : k.scopes.join(', ')}</td>
                <td>
                  <Time iso={k.created_at} />
                </td>
                <td>
                  <Time iso={k.last_used_at} />
                </td>
                <td>
                  {k.revoked_at ? (
                    <span class="muted">
                      revoked <Time iso={k.revoked_at} />
                    </span>
                  ) : (
                    <button type="button" class="danger small" onClick={() => revoke(k.id, k.label)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (k: CreatedApiKey) => void }) {
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<Set<Scope>>(new Set<Scope>(['memories:read', 'memories:write', 'traces:read', 'traces:write']));
  const [environment, setEnvironment] = useState<'live' | 'test'>('live');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      onCreated(await api.createKey({ label: label.trim() || 'Console key', scopes: [...scopes], environment }));
      setLabel('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card create-key" onSubmit={submit}>
      <div class="card-title">Create a key for this project</div>
      <div class="row">
        <input class="grow" placeholder="Label, e.g. support-agent prod" value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} aria-label="Label" />
        <select value={environment} onChange={(e) => setEnvironment((e.target as HTMLSelectElement).value as 'live' | 'test')} aria-label="Environment">
          <option value="live">live</option>
          <option value="test">test</option>
        </select>
        <button type="submit">Create key</button>
      </div>
      <div class="row scopes">
        {SCOPES.map((s) => (
          <label key={s} class="check">
            <input
              type="checkbox"
              checked={scopes.has(s)}
              onChange={() => {
                const next = new Set(scopes);
                if (next.has(s)) next.delete(s);
                else next.add(s);
                setScopes(next);
              }}
            />
            {s}
          </label>
        ))}
      </div>
      <ErrorBox error={error} what="Could not create the key" />
    </form>
  );
}

function NewKey({ created, onClose }: { created: CreatedApiKey; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="card new-key" role="status">
      <strong>Key "{created.label}" created. Copy it now: it is shown only this once.</strong>
      <div class="row">
        <input class="grow mono" readOnly value={created.api_key} aria-label="New API key" onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard.writeText(created.api_key);
            setCopied(true);
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}
