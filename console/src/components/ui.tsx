import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api/errors.ts';

/** A failed call, said plainly: what went wrong and, where it helps, what to do. */
export function ErrorBox({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError) {
    if (error.status === 403) message = `This key may not do that (${message}).`;
    if (error.status === 404 && error.code === 'not_found' && /^Route /.test(message)) message = 'This server does not offer that yet (the endpoint is missing).';
    if (error.status === 409) message = `Conflict: ${message}`;
    if (error.status === 429) message = 'Too many requests; wait a moment and try again.';
  }
  return (
    <div class="error" role="alert">
      {what ? <strong>{what}: </strong> : null}
      {message}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return <p class="muted loading">{label}</p>;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children ? <p class="muted">{children}</p> : null}
    </div>
  );
}

export function Badge({ value, kind }: { value: string; kind?: string }) {
  return <span class={`badge badge-${kind ?? value}`}>{value}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={date.toISOString()}>
      {date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  );
}

export function QValue({ q }: { q: number }) {
  return (
    <span class="qvalue" title={`Q-value ${q}`}>
      <span class="qbar">
        <span class="qfill" style={{ width: `${Math.round(Math.max(0, Math.min(1, q)) * 100)}%` }} />
      </span>
      <span class="qnum">{q.toFixed(3)}</span>
    </span>
  );
}

/** Long text folded to its first lines, with a button to show the rest. Always plain text. */
export function Folded({ text, limit = 600 }: { text: string; limit?: number }) {
  const [open, setOpen] = useState(false);
  if (text.length <= limit) return <div class="text">{text}</div>;
  return (
    <div class="text">
      {open ? text : `${text.slice(0, limit)}…`}
      <button type="button" class="link-button" onClick={() => setOpen(!open)}>
        {open ? 'Show less' : `Show all (${text.length.toLocaleString()} characters)`}
      </button>
    </div>
  );
}

/** Any JSON value, pretty-printed as text. */
export function JsonBlock({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function short(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '—';
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)}%`;
}
