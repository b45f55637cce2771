import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSecretRedactor, placeholder, redactStrings, redactText, SECRET_PATTERNS, type RedactionCounts } from '../../src/security/secrets.js';

interface Corpus {
  /** Real-shaped fake secrets in context: `secret` must be replaced by `[REDACTED:<kind>]`, and nothing else changed. */
  positives: { kind: string; text: string; secret: string }[];
  /** Lookalikes that must come through unchanged. */
  negatives: { name: string; text: string }[];
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/secrets.json', import.meta.url), 'utf8')) as Corpus;

describe('secret detection corpus', () => {
  it.each(corpus.positives.map((p) => [p.kind, p] as const))('catches %s', (_kind, { kind, text, secret }) => {
    const counts: RedactionCounts = {};
    const redacted = redactText(text, counts);
    expect(redacted).toBe(text.replace(secret, placeholder(kind)));
    expect(counts).toEqual({ [kind]: 1 });
  });

  it.each(corpus.negatives.map((n) => [n.name, n] as const))('leaves alone: %s', (_name, { text }) => {
    const counts: RedactionCounts = {};
    expect(redactText(text, counts)).toBe(text);
    expect(counts).toEqual({});
  });

  it('covers every kind in the pattern table with at least one positive example', () => {
    const covered = new Set(corpus.positives.map((p) => p.kind));
    expect(SECRET_PATTERNS.map((p) => p.kind).filter((kind) => !covered.has(kind))).toEqual([]);
  });
});

describe('redactStrings', () => {
  const key = corpus.positives.find((p) => p.kind === 'openai_key')!.secret;
  const jwt = corpus.positives.find((p) => p.kind === 'jwt')!.secret;

  it('redacts strings at any depth, keeps keys and other values, and counts per kind', () => {
    const trajectory = [
      { role: 'user', content: `my key is ${key}` },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'http', arguments: JSON.stringify({ headers: { Authorization: `Bearer ${jwt}` } }) } }],
      },
      { role: 'tool', content: [{ type: 'text', text: `again ${key} and ${key}` }], n: 3, ok: true },
    ];
    const counts: RedactionCounts = {};
    const clean = redactStrings(trajectory, counts);
    expect(JSON.stringify(clean)).not.toContain(key);
    expect(JSON.stringify(clean)).not.toContain(jwt);
    expect(clean[0]).toEqual({ role: 'user', content: 'my key is [REDACTED:openai_key]' });
    expect(JSON.parse(clean[1]!.tool_calls![0]!.function.arguments)).toEqual({ headers: { Authorization: 'Bearer [REDACTED:jwt]' } });
    expect(clean[2]).toEqual({ role: 'tool', content: [{ type: 'text', text: 'again [REDACTED:openai_key] and [REDACTED:openai_key]' }], n: 3, ok: true });
    expect(counts).toEqual({ openai_key: 3, jwt: 1 });
    // The input is not modified.
    expect(trajectory[0]!.content).toContain(key);
  });

  it('returns the same object when nothing was found', () => {
    const metadata = { env: 'prod', nested: { list: ['a', 'b'] }, n: 1 };
    expect(redactStrings(metadata, {})).toBe(metadata);
  });

  it('is idempotent: redacting redacted text finds nothing more', () => {
    const text = corpus.positives.map((p) => p.text).join('\n');
    const once = redactText(text, {});
    const counts: RedactionCounts = {};
    expect(redactText(once, counts)).toBe(once);
    expect(counts).toEqual({});
  });

  it('switched off, finds nothing', () => {
    const off = createSecretRedactor(false);
    const counts: RedactionCounts = {};
    expect(off.redact({ content: key }, counts)).toEqual({ content: key });
    expect(counts).toEqual({});
  });
});
