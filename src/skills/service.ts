import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.js';
import type { Actor } from '../db/memoryEvents.js';
import type { ProjectRow, SkillRow } from '../db/schema.js';
import {
  countReviewedMemories,
  finishSkillBuild,
  findSkill,
  listSkillVersions,
  previousReadySkill,
  startSkillBuild,
  topReviewedMemories,
} from '../db/skills.js';
import { ApiError, notFound } from '../http/errors.js';
import { withFreshLlmCallContext } from '../llm/usage/context.js';
import { isoOrNull, iso } from '../http/schemas.js';
import { composeSkill, runs, type GuideWriter } from './guide.js';
import type { SkillWire } from './models.js';

/** Fewer reviewed lessons than this make a guide not worth having. */
export const MIN_SKILL_MEMORIES = 5;

export function toSkillWire(row: SkillRow): SkillWire {
  return {
    project_id: row.projectId,
    version: row.version,
    status: row.status,
    name: row.name,
    description: row.description,
    markdown: row.markdown,
    source: row.source === 'llm' || row.source === 'template' ? row.source : null,
    built_from: row.builtFrom as SkillWire['built_from'],
    instructions: row.instructions,
    error: row.error,
    requested_by: row.requestedByKeyId ? { key_id: row.requestedByKeyId, label: row.requestedByLabel ?? '' } : null,
    created_at: iso(row.createdAt),
    completed_at: isoOrNull(row.completedAt),
  };
}

/**
 * A project's Skill: built on demand from its best reviewed memories, in the background (the
 * caller polls the version's status); each build or refinement is a new version.
 */
export function createSkillService(deps: { db: Db; writer: GuideWriter; maxMemories: number; log: FastifyBaseLogger }) {
  const { db } = deps;
  const running = new Set<Promise<void>>();

  async function build(project: ProjectRow, row: SkillRow): Promise<void> {
    try {
      const [strategies, pitfalls, previous] = await Promise.all([
        topReviewedMemories(db, project.id, true, deps.maxMemories),
        topReviewedMemories(db, project.id, false, deps.maxMemories),
        previousReadySkill(db, project.id, row.version),
      ]);
      const sources = {
        projectSlug: project.slug,
        version: row.version,
        strategies,
        pitfalls,
        instructions: row.instructions,
        ...(previous ? { previous: { version: previous.version, markdown: previous.markdown } } : {}),
      };
      const guide = await deps.writer.write(sources);
      const builtFrom = { strategies: strategies.length, pitfalls: pitfalls.length, runs: runs(sources) };
      const markdown = composeSkill({ name: row.name, description: guide.description, version: row.version, built_from: builtFrom }, guide.body);
      await finishSkillBuild(db, row.id, {
        description: guide.description,
        markdown,
        source: guide.source,
        builtFrom: { ...builtFrom, memory_ids: { strategies: strategies.map((m) => m.id), pitfalls: pitfalls.map((m) => m.id) } },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.log.warn({ projectId: project.id, version: row.version, err: message }, 'skill build failed');
      await finishSkillBuild(db, row.id, { error: message.slice(0, 500) }).catch(() => undefined);
    }
  }

  return {
    /**
     * Starts a build (the first version) or a refinement (the next one), unless one is running,
     * which is returned instead. 409 below MIN_SKILL_MEMORIES reviewed live memories.
     */
    async start(project: ProjectRow, actor: Actor, instructions: string | null): Promise<{ row: SkillRow; started: boolean }> {
      const available = await countReviewedMemories(db, project.id);
      if (available < MIN_SKILL_MEMORIES) {
        throw new ApiError(
          409,
          'not_enough_memories',
          `A Skill is built from reviewed memories: this project has ${available}, it needs at least ${MIN_SKILL_MEMORIES}. Review more traces first.`,
        );
      }
      const started = await startSkillBuild(db, {
        projectId: project.id,
        name: project.slug,
        instructions,
        requestedByKeyId: actor.keyId,
        requestedByLabel: actor.label,
      });
      if (started.started) {
        // Its LLM calls are logged as the Skill build's, not as the request that started it.
        const job = withFreshLlmCallContext({ purpose: 'skill_build', projectId: project.id }, () => build(project, started.row)).finally(() =>
          running.delete(job),
        );
        running.add(job);
      }
      return started;
    },

    async get(project: ProjectRow, version?: number): Promise<SkillRow> {
      const row = await findSkill(db, project.id, version);
      if (!row) throw notFound(version === undefined ? 'Skill (no version is ready yet: POST /v1/skill builds one)' : `Skill version ${version}`);
      return row;
    },

    versions(project: ProjectRow): Promise<SkillRow[]> {
      return listSkillVersions(db, project.id);
    },

    /** Waits for the builds in flight (shutdown). */
    async close(): Promise<void> {
      await Promise.allSettled([...running]);
    },
  };
}

export type SkillService = ReturnType<typeof createSkillService>;
