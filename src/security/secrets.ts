/**
 * Secret redaction for what agents send us: runs carry API keys, tokens, passwords and private
 * keys pasted into prompts or returned by tools. Each one found is replaced by a typed
 * placeholder, `[REDACTED:<kind>]`, and counted per kind.
 *
 * One table of named patterns (our own: secretlint, the well-kept scanner, is a file linter whose
 * current major needs Node 22 and lacks JWTs, Bearer headers, Stripe, Azure and our own keys).
 * Order matters: whole blocks (PEM keys) first, then tokens with a recognisable shape, then secrets
 * recognised by their context (a header, a URL, a label), so a token is named by its own kind.
 */

export type RedactionCounts = Record<string, number>;

interface SecretPattern {
  /** The placeholder's name, e.g. `openai_key` → `[REDACTED:openai_key]`. */
  kind: string;
  /**
   * Global regex. A named group `keep` is kept in front of the placeholder (a label, a scheme,
   * `Bearer `); the group `secret`, or else the whole match, is what `accept` is asked about.
   */
  pattern: RegExp;
  /** Rules a lookalike out that the regex alone cannot (e.g. prose that starts with "sk-"). */
  accept?: (secret: string) => boolean;
}

/** Mixed case and a digit: random tokens have all three; slugs and prose rarely do. */
const looksRandom = (s: string) => /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s);
const hasLetterAndDigit = (s: string) => /[A-Za-z]/.test(s) && /\d/.test(s);
/** `Basic <base64 of user:password>`: the word after "Basic" in prose does not decode so. */
const isBasicCredential = (s: string) => /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(Buffer.from(s, 'base64').toString('latin1'));

/** Token characters never directly before or after a token (so a token is not cut out of a longer word). */
const B = '(?<![A-Za-z0-9_-])';
const E = '(?![A-Za-z0-9_-])';

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    kind: 'private_key',
    // A PEM/PGP block: base64 lines (real or JSON-escaped \n breaks) and header lines, up to its END
    // line; a truncated block up to where its base64 ends. One pass, no backtracking.
    pattern:
      /-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\r\n]|\\[rn]|(?:Proc-Type|DEK-Info|Version|Comment):[^\r\n\\]*)*(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)?/g,
  },
  { kind: 'anthropic_key', pattern: new RegExp(`${B}sk-ant-[A-Za-z0-9_-]{20,}`, 'g') },
  // sk-proj-, sk-svcacct-, sk-admin- and the classic sk-<48>; other providers' sk- keys look the same.
  { kind: 'openai_key', pattern: new RegExp(`${B}sk-[A-Za-z0-9_-]{20,}`, 'g'), accept: looksRandom },
  { kind: 'stripe_key', pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'github_token', pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/g },
  { kind: 'slack_token', pattern: new RegExp(`${B}(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-\\d-[A-Za-z0-9-]{10,})`, 'g') },
  { kind: 'slack_webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+/g },
  { kind: 'gcp_api_key', pattern: new RegExp(`${B}AIza[0-9A-Za-z_-]{35}${E}`, 'g') },
  { kind: 'aws_access_key_id', pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  { kind: 'npm_token', pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
  // This server's own keys: rf_<environment>_<key id>_<secret>.
  { kind: 'reflect_key', pattern: /(?<![A-Za-z0-9_])rf_[a-z]+_[A-Za-z0-9]{8,32}_[A-Za-z0-9]{32,128}(?![A-Za-z0-9])/g },
  { kind: 'jwt', pattern: new RegExp(`${B}eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{16,}${E}`, 'g') },

  // Recognised by context: only the secret part is replaced, the label stays readable.
  {
    kind: 'aws_secret_key',
    pattern: /(?<keep>(?<![A-Za-z0-9])(?:aws_?)?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?)(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
  },
  {
    kind: 'azure_key',
    // Storage / Service Bus / Event Hubs connection strings: AccountKey=…, SharedAccessKey=…
    pattern: /(?<keep>(?<![A-Za-z0-9])(?:AccountKey|SharedAccessKey|AccessKey|PrimaryKey|SecondaryKey)\s*=\s*)(?<secret>[A-Za-z0-9+/]{20,}={0,2})/g,
  },
  { kind: 'azure_sas_signature', pattern: /(?<keep>[?&;]sig=)(?<secret>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})/g },
  {
    kind: 'bearer_token',
    pattern: /(?<keep>\bbearer\s+)(?<secret>[A-Za-z0-9._~+/-]{16,}=*)/gi,
    accept: hasLetterAndDigit,
  },
  { kind: 'basic_auth', pattern: /(?<keep>\bbasic\s+)(?<secret>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/gi, accept: isBasicCredential },
  {
    kind: 'url_password',
    // scheme://user:password@host (the user may be empty: redis://:password@host).
    // Bounded repeats: an unbounded scheme would rescan a long run of letters, dots and dashes from every word start.
    pattern: /(?<keep>\b[a-zA-Z][a-zA-Z0-9+.-]{0,31}:\/\/[^\s:/?#@[\]"'<>]{0,256}:)(?<secret>[^\s/?#@[\]"'<>]{1,256})(?=@)/g,
  },
];

/** No secret we detect is shorter than this, so shorter strings are not scanned. */
const MIN_SECRET_LENGTH = 16;

export function placeholder(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** `text` with every detected secret replaced by its placeholder; each one is counted in `counts`. */
export function redactText(text: string, counts: RedactionCounts): string {
  if (text.length < MIN_SECRET_LENGTH) return text;
  let out = text;
  for (const { kind, pattern, accept } of SECRET_PATTERNS) {
    out = out.replace(pattern, (match: string, ...args: unknown[]) => {
      const groups = args.at(-1) as Record<string, string | undefined> | undefined;
      const named = typeof groups === 'object' && groups !== null;
      const secret = (named && groups.secret) || match;
      if (accept && !accept(secret)) return match;
      counts[kind] = (counts[kind] ?? 0) + 1;
      return `${(named && groups.keep) || ''}${placeholder(kind)}`;
    });
  }
  return out;
}

/**
 * Every string inside `value` (arrays and plain objects at any depth) redacted; object keys and
 * non-string values are kept. Returns the same value when nothing was found.
 */
export function redactStrings<T>(value: T, counts: RedactionCounts): T {
  if (typeof value === 'string') return redactText(value, counts) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const clean = redactStrings(item, counts);
      if (clean !== item) changed = true;
      return clean;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const clean = redactStrings(item, counts);
      if (clean !== item) changed = true;
      out[key] = clean;
    }
    return (changed ? out : value) as T;
  }
  return value;
}

/** What callers hold: the configured redaction, or one that finds nothing (REFLECT_REDACT_SECRETS=false). */
export interface SecretRedactor {
  readonly enabled: boolean;
  /** Redacts every string inside `value`, adding what it found to `counts`. */
  redact<T>(value: T, counts: RedactionCounts): T;
}

export function createSecretRedactor(enabled: boolean): SecretRedactor {
  return { enabled, redact: enabled ? redactStrings : (value) => value };
}

/** Redaction on: the default for services built without a configured redactor. */
export const defaultSecretRedactor = createSecretRedactor(true);
