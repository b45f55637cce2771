import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { clientTypes, GENERATED_TYPES, openApiDocument } from '../../client/generate.js';

it('the committed client types are those of the current OpenAPI document (else: npm run generate:client)', async () => {
  const fresh = await clientTypes(await openApiDocument());
  const committed = await readFile(GENERATED_TYPES, 'utf8');
  // Not toBe: a 5000-line diff in the report helps nobody; the message says what to run.
  expect(committed === fresh, 'client/generated/api.ts is stale: run `npm run generate:client` and commit it').toBe(true);
}, 120_000);
