import { z } from 'zod';

/**
 * An opaque keyset cursor: the (created_at, id) of the last row of a page. The timestamp is kept
 * as PostgreSQL's own text (microseconds), not a JS Date (milliseconds), or rows created within
 * the same millisecond would be skipped or repeated across pages.
 */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

/**
 * A cursor may also carry the first page's total (X-Total-Count): counting every row of a large
 * project costs more than reading a page, so later pages repeat the count of the walk's start.
 */
export type Cursor = KeysetPosition & { total?: number };

const position = z.union([
  z.tuple([z.string().regex(/^\d{4}-\d\d-\d\d[ T][\d:.]+([+-]\d\d(:?\d\d)?|Z)?$/), z.uuid()]),
  z.tuple([z.string().regex(/^\d{4}-\d\d-\d\d[ T][\d:.]+([+-]\d\d(:?\d\d)?|Z)?$/), z.uuid(), z.number().int().min(0)]),
]);

export function encodeCursor(p: KeysetPosition, total?: number): string {
  return Buffer.from(JSON.stringify(total === undefined ? [p.createdAt, p.id] : [p.createdAt, p.id, total])).toString('base64url');
}

function decodeCursor(raw: string): Cursor | undefined {
  try {
    const parsed = position.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    if (!parsed.success) return undefined;
    const [createdAt, id, total] = parsed.data;
    return total === undefined ? { createdAt, id } : { createdAt, id, total };
  } catch {
    return undefined;
  }
}

/** The `cursor` query parameter: a bad one is a 422 like any other invalid input. */
export const cursorParam = z
  .string()
  .max(200)
  .transform((raw, ctx) => {
    const decoded = decodeCursor(raw);
    if (!decoded) {
      ctx.addIssue({ code: 'custom', message: 'Invalid cursor: pass the X-Next-Cursor header of the previous page' });
      return z.NEVER;
    }
    return decoded;
  })
  .meta({ description: "The previous page's X-Next-Cursor response header" });

/** An ISO 8601 timestamp (or date) in a query string. */
export const isoTimestampParam = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d\d-\d\d/.test(s) && !Number.isNaN(Date.parse(s)), { message: 'Must be an ISO 8601 timestamp' })
  .transform((s) => new Date(s))
  .meta({ format: 'date-time', example: '2026-11-21T10:00:00Z' });

/** `true` or `false` in a query string. */
export const booleanParam = z.enum(['true', 'false']).transform((v) => v === 'true');
