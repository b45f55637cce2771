declare global {
  interface String {
    /** ES2024, in Node 20: the string with each unpaired UTF-16 surrogate replaced by U+FFFD. */
    toWellFormed(): string;
  }
}

/**
 * What a model writes is stored as text or jsonb, and PostgreSQL holds neither a NUL nor an
 * unpaired surrogate: a request carrying them is refused at the edge, but a model's answer is
 * ours to store, so it is cleaned instead (NUL dropped, a lone surrogate becomes U+FFFD).
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').toWellFormed();
}

/** A JSON.parse reviver that cleans every string of a model's JSON answer. */
export const storableStrings = (_key: string, value: unknown): unknown => (typeof value === 'string' ? storableText(value) : value);
