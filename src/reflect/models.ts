import { z } from 'zod';
import { PROJECT_SLUG, PROJECT_SLUG_RULE } from '../auth/apiKeys.js';
import { FACT_TYPES } from '../db/schema.js';
import { TAG_GROUP_LIMITS, TAG_MATCH_MODES, tagGroupsProblem, type TagGroup } from './tagFilter.js';

/** Tool turns the agent may take per budget before it must answer without tools. */
export const BUDGET_TOOL_TURNS = { low: 5, mid: 10, high: 20 } as const;
export type Budget = keyof typeof BUDGET_TOOL_TURNS;

const tag = z.string().min(1).max(200);
const tagList = z.array(tag).max(100);
export const tagsMatch = z.enum(TAG_MATCH_MODES);

export const tagGroup: z.ZodType<TagGroup> = z.lazy(() =>
  z.union([
    z.strictObject({ tags: tagList, match: tagsMatch.optional() }),
    z.strictObject({ and: z.array(tagGroup).max(50) }),
    z.strictObject({ or: z.array(tagGroup).max(50) }),
    z.strictObject({ not: tagGroup }),
  ]),
).meta({ id: 'TagGroup', description: 'A leaf {tags, match} or a compound {and: [...]}, {or: [...]}, {not: ...}' });

/** A validator for answers per a `response_schema` (an object schema, `type` implied when absent). */
export function responseSchemaValidator(schema: Record<string, unknown>): z.ZodType {
  return z.fromJSONSchema({ type: 'object', ...schema } as Parameters<typeof z.fromJSONSchema>[0]);
}

/**
 * A usable `response_schema`: a JSON Schema for an object (`type` absent or "object") whose
 * `properties` are schemas, and which zod can turn into a validator. Checked before any LLM call.
 */
function responseSchemaProblem(schema: Record<string, unknown>): string | undefined {
  if (schema.type !== undefined && schema.type !== 'object') return 'must describe an object ("type": "object")';
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties) || Object.keys(properties).length === 0) {
    return 'must have "properties": an object naming at least one field';
  }
  for (const [name, property] of Object.entries(properties)) {
    if (typeof property !== 'boolean' && (typeof property !== 'object' || property === null || Array.isArray(property))) {
      return `property "${name}" must be a JSON Schema object`;
    }
  }
  try {
    responseSchemaValidator(schema);
  } catch (error) {
    return `is not a JSON Schema this server can use: ${(error as Error).message}`;
  }
  return undefined;
}

export const responseSchema = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  const problem = responseSchemaProblem(schema);
  if (problem) ctx.addIssue({ code: 'custom', message: `response_schema ${problem}` });
});

export const reflectBody = z
  .object({
    query: z
      .string()
      .max(20_000)
      .refine((s) => s.trim().length > 0, { message: 'Must not be empty' }),
    budget: z.enum(['low', 'mid', 'high']).default('low').describe('Tool turns: low 5, mid 10, high 20'),
    context: z.string().max(100_000).nullish().describe('Extra situational context, added to the prompt'),
    max_tokens: z.number().int().min(16).max(128_000).default(4096).describe('Bounds the final answer only'),
    response_schema: responseSchema.nullish(),
    tags: tagList.nullish(),
    tags_match: tagsMatch.default('any'),
    tag_groups: z
      .array(tagGroup)
      .max(50)
      .nullish()
      .describe(`AND-ed groups; at most ${TAG_GROUP_LIMITS.maxGroups} groups in all, nested at most ${TAG_GROUP_LIMITS.maxDepth} deep`),
    fact_types: z.array(z.enum(FACT_TYPES)).min(1).max(10).nullish(),
    exclude_mental_models: z.boolean().default(false),
    exclude_mental_model_ids: z.array(z.string().max(200)).max(1_000).nullish(),
    apply_all_directives: z.boolean().default(false).describe('Apply tagged directives even when the request tags do not match them'),
    include: z
      .object({
        facts: z.record(z.string(), z.unknown()).nullish(),
        tool_calls: z.object({ output: z.boolean().default(true) }).nullish(),
      })
      .nullish(),
  })
  .superRefine((body, ctx) => {
    if (body.tags != null && body.tag_groups != null) {
      ctx.addIssue({ code: 'custom', path: ['tag_groups'], message: 'tag_groups and tags are mutually exclusive' });
    }
    const problem = body.tag_groups ? tagGroupsProblem(body.tag_groups) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['tag_groups'], message: problem.message, params: { type: problem.type } });
  })
  .meta({
    example: {
      query: 'What should I check before counting orders by month?',
      budget: 'low',
      tags: ['sql'],
      tags_match: 'any',
      include: { facts: {}, tool_calls: { output: true } },
    },
  });
export type ReflectBody = z.output<typeof reflectBody>;

const toolCallTrace = z.object({
  tool: z.string(),
  input: z.record(z.string(), z.unknown()),
  output: z.record(z.string(), z.unknown()).nullable(),
  duration_ms: z.number(),
  iteration: z.number().int(),
});

export const reflectResponse = z
  .object({
    text: z.string().describe('The answer in markdown; empty when a response_schema was given'),
    structured_output: z.record(z.string(), z.unknown()).nullable().describe('The answer per response_schema; null without one or when extraction failed'),
    based_on: z
      .object({
        memories: z.array(z.object({ id: z.string(), text: z.string(), type: z.string(), context: z.string() })),
        mental_models: z.array(z.object({ id: z.string(), text: z.string(), context: z.string() })),
        directives: z.array(z.object({ id: z.string(), name: z.string(), content: z.string() })),
      })
      .optional()
      .describe('With include.facts: the evidence the answer rests on'),
    usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() }),
    trace: z
      .object({
        tool_calls: z.array(toolCallTrace),
        llm_calls: z.array(z.object({ scope: z.string(), duration_ms: z.number() })),
      })
      .optional()
      .describe('With include.tool_calls: every tool and LLM call of the loop'),
  })
  .meta({ id: 'ReflectResponse' });
export type ReflectResponse = z.infer<typeof reflectResponse>;

/** Path parameters of a route under /v1/default/banks/:bank_id (see withTenant for the /v1/:tenant/ form). */
export const bankParams = z.object({
  bank_id: z.string().regex(PROJECT_SLUG, `bank_id must be a project slug: ${PROJECT_SLUG_RULE}`).describe('The project slug'),
});

/** The same parameters for a route's `/v1/:tenant/banks/…` form (the tenant is checked when resolving the bank). */
export function withTenant<T extends z.ZodRawShape>(url: string, params: z.ZodObject<T>) {
  return url.includes(':tenant') ? params.extend({ tenant: z.string().describe('Only "default" exists') }) : params;
}
