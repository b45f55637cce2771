import type { Principal } from '../auth/service.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { findOwnedProject, updateConsolidationSettings } from '../db/consolidation.js';
import type { ProjectRow } from '../db/schema.js';
import { forbidden, notFound } from '../http/errors.js';
import type { ProjectSettingsWire, UpdateProjectSettingsBody } from './settingsModels.js';

/**
 * The project a /v1/projects/{project}/… path names: a master key reaches its user's projects;
 * a project key only its own (403 for another). 404 for an unknown project.
 */
export async function resolveAddressedProject(db: Db, principal: Principal, slugOrId: string): Promise<ProjectRow> {
  const own = principal.keyProject;
  if (!principal.isMaster) {
    if (slugOrId !== own.slug && slugOrId !== own.id) throw forbidden('This API key is bound to another project');
    return (await findOwnedProject(db, own.ownerUserId, own.id)) ?? own;
  }
  const project = await findOwnedProject(db, principal.userId, slugOrId);
  if (!project) throw notFound('Project');
  return project;
}

/** A project's own settings (consolidation), over the server's defaults. */
export function createProjectSettingsService(deps: { db: Db; defaults: Config['consolidation'] }) {
  const { db, defaults } = deps;

  const wire = (p: Pick<ProjectRow, 'id' | 'slug' | 'consolidationEnabled' | 'consolidationThreshold'>): ProjectSettingsWire => ({
    project_id: p.id,
    slug: p.slug,
    consolidation_enabled: p.consolidationEnabled,
    consolidation_threshold: p.consolidationThreshold,
    effective: {
      consolidation_enabled: p.consolidationEnabled ?? defaults.enabled,
      consolidation_threshold: p.consolidationThreshold ?? defaults.threshold,
    },
  });

  const resolve = (principal: Principal, slugOrId: string) => resolveAddressedProject(db, principal, slugOrId);

  return {
    async get(principal: Principal, slugOrId: string): Promise<ProjectSettingsWire> {
      return wire(await resolve(principal, slugOrId));
    },

    async update(principal: Principal, slugOrId: string, body: UpdateProjectSettingsBody): Promise<ProjectSettingsWire> {
      const project = await resolve(principal, slugOrId);
      const row = await updateConsolidationSettings(db, project.id, {
        enabled: body.consolidation_enabled,
        threshold: body.consolidation_threshold,
      });
      return wire({ ...project, consolidationEnabled: row.enabled, consolidationThreshold: row.threshold });
    },
  };
}

export type ProjectSettingsService = ReturnType<typeof createProjectSettingsService>;
