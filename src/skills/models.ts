import { z } from 'zod';
import { nullableTimestamp, timestamp } from '../http/schemas.js';

export const SKILL_STATUSES = ['building', 'ready', 'failed'] as const;

const builtFrom = z
  .object({
    strategies: z.number().int().describe('Lessons of passed runs used (proven strategies)'),
    pitfalls: z.number().int().describe('Lessons of failed runs used (pitfalls to avoid)'),
    runs: z.number().int().describe('Reviewed runs behind those lessons (merged near-duplicates count each run)'),
    memory_ids: z.object({ strategies: z.array(z.uuid()), pitfalls: z.array(z.uuid()) }),
  })
  .partial()
  .meta({ id: 'SkillBuiltFrom' });

/** The SDK's get_skill answer: a version of the project's Skill, with its Markdown. */
export const skill = z
  .object({
    project_id: z.uuid(),
    version: z.number().int(),
    status: z.enum(SKILL_STATUSES).describe('"building" until the background build ends: poll GET /v1/skill?version=N'),
    name: z.string(),
    description: z.string(),
    markdown: z.string().describe('The guide: YAML front-matter (name, description, version, built_from) and Markdown body; empty until ready'),
    source: z.enum(['llm', 'template']).nullable().describe('Who wrote the body: the LLM, or the template (no LLM key)'),
    built_from: builtFrom,
    instructions: z.string().nullable().describe('What this refinement was asked to change'),
    error: z.string().nullable(),
    requested_by: z.object({ key_id: z.uuid(), label: z.string() }).nullable(),
    created_at: timestamp,
    completed_at: nullableTimestamp,
  })
  .meta({ id: 'Skill' });
export type SkillWire = z.infer<typeof skill>;

export const skillVersionQuery = z.object({
  version: z.coerce.number().int().min(1).optional().describe('A given version (any status); default: the latest ready one'),
});

export const buildSkillBody = z
  .object({
    instructions: z
      .string()
      .max(4_000)
      .nullish()
      .describe('Refining: what the new version should change (e.g. "shorter; group by tool")'),
  })
  .meta({ example: { instructions: 'Group the strategies by tool and keep it under one page.' } });
