import { z } from 'zod';
import { nullableTimestamp, timestamp } from '../http/schemas.js';
import { bankParams, tagsMatch } from './models.js';

/** Hindsight-shaped mental models and directives, as its client sends and reads them. */

const tagList = z.array(z.string().min(1).max(200)).max(100);
/** `?tags=a` or `?tags=a&tags=b`. */
const tagQuery = z.union([z.string().max(200), z.array(z.string().max(200)).max(100)]).optional();
const nonBlank = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => s.trim().length > 0, { message: 'Must not be empty' });

/** Caller-chosen mental model ids are names, not secrets: the same rule as project slugs, minus dots. */
export const MENTAL_MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

export const mentalModelParams = bankParams.extend({ mental_model_id: z.string().min(1).max(200) });
export const directiveParams = bankParams.extend({ directive_id: z.uuid() });

export const mentalModel = z
  .object({
    id: z.string(),
    bank_id: z.string(),
    name: z.string(),
    source_query: z.string(),
    content: z.string(),
    tags: z.array(z.string()),
    max_tokens: z.number().int(),
    trigger: z.null().describe('Automatic refreshes are not supported: always null'),
    last_refreshed_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'MentalModel' });
export type MentalModelWire = z.infer<typeof mentalModel>;

export const createMentalModelBody = z
  .object({
    id: z.string().regex(MENTAL_MODEL_ID, 'id: 1-100 letters, digits, "_" or "-", starting with a letter or digit').nullish(),
    name: nonBlank(500),
    source_query: nonBlank(20_000),
    content: z.string().max(200_000).nullish().describe('The answer as it stands; empty until a refresh writes one'),
    tags: tagList.nullish(),
    max_tokens: z.number().int().min(16).max(128_000).nullish(),
  })
  .meta({ example: { name: 'Order counting', source_query: 'How should orders be counted per month?', tags: ['sql'] } });
export type CreateMentalModelBody = z.infer<typeof createMentalModelBody>;

/** Hindsight answers a create with the id (`mental_model_id`); the model itself comes along. */
export const createdMentalModel = mentalModel.extend({ mental_model_id: z.string() }).meta({ id: 'CreatedMentalModel' });

export const updateMentalModelBody = z
  .object({
    name: nonBlank(500).nullish(),
    source_query: nonBlank(20_000).nullish(),
    content: z.string().max(200_000).nullish(),
    tags: tagList.nullish(),
    max_tokens: z.number().int().min(16).max(128_000).nullish(),
  })
  .meta({ example: { tags: ['sql', 'reporting'] } });
export type UpdateMentalModelBody = z.infer<typeof updateMentalModelBody>;

export const listMentalModelsQuery = z.object({
  tags: tagQuery,
  tags_match: tagsMatch.default('any'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Hindsight's refresh answers with an operation; here the refresh has finished when it answers. */
export const refreshedMentalModel = z
  .object({ operation_id: z.uuid(), status: z.literal('completed'), mental_model: mentalModel })
  .meta({ id: 'MentalModelRefresh' });

export const directive = z
  .object({
    id: z.uuid(),
    bank_id: z.string(),
    name: z.string(),
    content: z.string(),
    priority: z.number().int(),
    is_active: z.boolean(),
    tags: z.array(z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Directive' });
export type DirectiveWire = z.infer<typeof directive>;

export const createDirectiveBody = z
  .object({
    name: nonBlank(500),
    content: nonBlank(20_000),
    priority: z.number().int().min(-1_000_000).max(1_000_000).default(0),
    is_active: z.boolean().default(true),
    tags: tagList.nullish(),
  })
  .meta({ example: { name: 'Cite the date filter', content: 'Always say which date column a count filters on.', priority: 10 } });
export type CreateDirectiveBody = z.output<typeof createDirectiveBody>;

export const updateDirectiveBody = z
  .object({
    name: nonBlank(500).nullish(),
    content: nonBlank(20_000).nullish(),
    priority: z.number().int().min(-1_000_000).max(1_000_000).nullish(),
    is_active: z.boolean().nullish(),
    tags: tagList.nullish(),
  })
  .meta({ example: { is_active: false } });
export type UpdateDirectiveBody = z.infer<typeof updateDirectiveBody>;

export const listDirectivesQuery = z.object({
  tags: tagQuery,
  tags_match: tagsMatch.default('any'),
  active_only: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const deleted = z.object({ success: z.literal(true), id: z.string() }).meta({ id: 'Deleted' });
