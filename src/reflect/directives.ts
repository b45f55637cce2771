import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { deleteDirective, getDirective, insertDirective, listDirectives, updateDirective } from '../db/directives.js';
import { directives, type DirectiveRow, type ProjectRow } from '../db/schema.js';
import { notFound } from '../http/errors.js';
import { iso } from '../http/schemas.js';
import type { CreateDirectiveBody, DirectiveWire, UpdateDirectiveBody } from './bankModels.js';
import { tagMatchCondition, type TagMatch } from './tagFilter.js';

export function toDirectiveWire(row: DirectiveRow, bankId: string): DirectiveWire {
  return {
    id: row.id,
    bank_id: bankId,
    name: row.name,
    content: row.content,
    priority: row.priority,
    is_active: row.isActive,
    tags: row.tags,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

/** The standing rules of a project; reflect puts the active ones in its prompt. */
export function createDirectiveService(deps: { db: Db }) {
  const { db } = deps;
  return {
    create(project: ProjectRow, body: CreateDirectiveBody): Promise<DirectiveRow> {
      return insertDirective(db, {
        projectId: project.id,
        name: body.name,
        content: body.content,
        priority: body.priority,
        isActive: body.is_active,
        tags: [...new Set(body.tags ?? [])],
      });
    },

    list(project: ProjectRow, query: { tags?: string | string[]; tags_match: TagMatch; active_only: boolean; limit: number; offset: number }) {
      const tags = query.tags === undefined ? [] : [query.tags].flat();
      return listDirectives(db, project.id, {
        activeOnly: query.active_only,
        tagCondition: tags.length ? tagMatchCondition(sql`${directives.tags}`, tags, query.tags_match) : undefined,
        limit: query.limit,
        offset: query.offset,
      });
    },

    async get(project: ProjectRow, id: string): Promise<DirectiveRow> {
      const row = await getDirective(db, project.id, id);
      if (!row) throw notFound('Directive');
      return row;
    },

    async update(project: ProjectRow, id: string, body: UpdateDirectiveBody): Promise<DirectiveRow> {
      const row = await updateDirective(db, project.id, id, {
        name: body.name ?? undefined,
        content: body.content ?? undefined,
        priority: body.priority ?? undefined,
        isActive: body.is_active ?? undefined,
        tags: body.tags ? [...new Set(body.tags)] : undefined,
      });
      if (!row) throw notFound('Directive');
      return row;
    },

    async remove(project: ProjectRow, id: string): Promise<DirectiveRow> {
      const row = await deleteDirective(db, project.id, id);
      if (!row) throw notFound('Directive');
      return row;
    },
  };
}

export type DirectiveService = ReturnType<typeof createDirectiveService>;
