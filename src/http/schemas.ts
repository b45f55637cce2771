import { z } from 'zod';

export const errorBody = z
  .object({ detail: z.string(), code: z.string() })
  .meta({ id: 'Error', example: { detail: 'Missing or invalid API key', code: 'unauthorized' } });

export const validationErrorBody = z
  .object({
    detail: z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })),
    code: z.literal('validation_error'),
  })
  .meta({ id: 'ValidationError' });

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const authErrors = {
  401: errorBody.describe('Missing, malformed, unknown or revoked API key'),
  403: errorBody.describe('The key lacks the scope, or names another project'),
  422: validationErrorBody.describe('Invalid request'),
  429: errorBody.describe('Rate limited; see Retry-After'),
};

export const idParams = z.object({ id: z.uuid() });

/**
 * A free-form JSON object (metadata, filters) with at most `maxKeys` keys at its top level.
 * Every string, key and nesting level inside already obeys the input rules (http/inputRules.ts).
 */
export const jsonObject = (maxKeys: number) =>
  z
    .record(z.string(), z.unknown())
    .refine((o) => Object.keys(o).length <= maxKeys, { message: `must not have more than ${maxKeys} keys`, params: { type: 'too_many_keys' } })
    .meta({ maxProperties: maxKeys });

export const timestamp = z.string().meta({ format: 'date-time', example: '2026-11-21T10:00:00.000Z' });
export const nullableTimestamp = timestamp.nullable();

export const iso = (d: Date) => d.toISOString();
export const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
