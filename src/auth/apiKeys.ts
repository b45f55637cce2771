import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['memories:read', 'memories:write', 'traces:read', 'traces:write', 'keys:manage'] as const;
export type Scope = (typeof SCOPES)[number];
export const ENVIRONMENTS = ['live', 'test'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * Names a caller chooses. One definition for HTTP (bootstrap, X-Project-Id) and the CLI, so that a
 * project created one way can always be addressed the other way.
 */
export const PROJECT_SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const PROJECT_SLUG_RULE = '1-100 characters: letters, digits, ".", "_" or "-", starting with a letter or digit';
export const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;
export const USER_ID_RULE = '1-100 characters: letters, digits, ".", "_", "@", "+" or "-", starting with a letter or digit';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_ID_LENGTH = 12;
const SECRET_LENGTH = 40; // ~238 bits
const KEY_PATTERN = /^rf_(live|test)_([A-Za-z0-9]{8,32})_([A-Za-z0-9]{32,128})$/;

export interface ParsedKey {
  environment: Environment;
  keyId: string;
  secret: string;
}

export interface MintedKey extends ParsedKey {
  plaintext: string;
  prefix: string;
  secretHash: string;
}

function randomString(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** The secrets are long and random, so one SHA-256 is as strong as a slow hash and far cheaper. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function mintKey(environment: Environment): MintedKey {
  const keyId = randomString(KEY_ID_LENGTH);
  const secret = randomString(SECRET_LENGTH);
  const prefix = keyPrefix(environment, keyId);
  return { environment, keyId, secret, prefix, plaintext: `${prefix}_${secret}`, secretHash: hashSecret(secret) };
}

export function keyPrefix(environment: string, keyId: string): string {
  return `rf_${environment}_${keyId}`;
}

export function parseKey(plaintext: string): ParsedKey | null {
  const m = KEY_PATTERN.exec(plaintext);
  if (!m) return null;
  return { environment: m[1] as Environment, keyId: m[2]!, secret: m[3]! };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time comparison for the bootstrap token (hashing first equalises the lengths). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );
}

/** The credential of an `Authorization: Bearer <credential>` header, if that is what it holds. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '')?.[1]?.trim();
}
