import { z } from 'zod';

export const projectParams = z.object({
  project: z.string().min(1).max(200).describe("The project's slug (the X-Project-Id value) or its id"),
});

const threshold = z.number().gt(0).max(1);

export const projectSettings = z
  .object({
    project_id: z.uuid(),
    slug: z.string(),
    consolidation_enabled: z.boolean().nullable().describe("The project's own choice; null = the server's default (REFLECT_CONSOLIDATION)"),
    consolidation_threshold: threshold.nullable().describe("The project's own threshold; null = the server's default (REFLECT_CONSOLIDATION_THRESHOLD)"),
    effective: z
      .object({ consolidation_enabled: z.boolean(), consolidation_threshold: threshold })
      .describe('What reviews of this project use now'),
  })
  .meta({ id: 'ProjectSettings' });
export type ProjectSettingsWire = z.infer<typeof projectSettings>;

export const updateProjectSettingsBody = z
  .object({
    consolidation_enabled: z.boolean().nullable().describe('Merge near-duplicate lessons at review time; null = follow the server default'),
    consolidation_threshold: threshold
      .nullable()
      .describe('Task-embedding cosine (0 < t ≤ 1) at or above which lessons of the same outcome merge; null = the server default'),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'Give at least one setting to change' })
  .meta({ example: { consolidation_enabled: true, consolidation_threshold: 0.95 } });
export type UpdateProjectSettingsBody = z.infer<typeof updateProjectSettingsBody>;
