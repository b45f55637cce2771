import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { deleteMentalModel, getMentalModel, insertMentalModel, listMentalModels, updateMentalModel } from '../db/mentalModels.js';
import { mentalModels, type MentalModelRow, type ProjectRow } from '../db/schema.js';
import type { Embedder } from '../embeddings/embedder.js';
import { conflict, notFound } from '../http/errors.js';
import { iso, isoOrNull } from '../http/schemas.js';
import type { CreateMentalModelBody, MentalModelWire, UpdateMentalModelBody } from './bankModels.js';
import { reflectBody } from './models.js';
import type { ReflectService } from './service.js';
import { withLlmCallContext } from '../llm/usage/context.js';
import { tagMatchCondition, type TagMatch } from './tagFilter.js';
import { storableText } from '../llm/storableText.js';

export function toMentalModelWire(row: MentalModelRow, bankId: string): MentalModelWire {
  return {
    id: row.id,
    bank_id: bankId,
    name: row.name,
    source_query: row.sourceQuery,
    content: row.content,
    tags: row.tags,
    max_tokens: row.maxTokens,
    trigger: null,
    last_refreshed_at: isoOrNull(row.lastRefreshedAt),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

/** What reflect's mental-model search compares a question with. */
export const searchableText = (m: Pick<MentalModelRow, 'name' | 'sourceQuery' | 'content'>) => [m.name, m.sourceQuery, m.content].filter(Boolean).join('\n');

export function createMentalModelService(deps: { db: Db; embedder: Embedder; reflect: ReflectService }) {
  const { db, embedder } = deps;

  async function embedding(m: Pick<MentalModelRow, 'name' | 'sourceQuery' | 'content'>) {
    const [vector] = await embedder.embed([searchableText(m)]);
    return { embedding: vector!, embeddingModel: embedder.model };
  }

  async function get(project: ProjectRow, id: string): Promise<MentalModelRow> {
    const row = await getMentalModel(db, project.id, id);
    if (!row) throw notFound('Mental model');
    return row;
  }

  async function update(project: ProjectRow, id: string, body: UpdateMentalModelBody & { lastRefreshedAt?: Date }): Promise<MentalModelRow> {
    const current = await get(project, id);
    const next = {
      name: body.name ?? current.name,
      sourceQuery: body.source_query ?? current.sourceQuery,
      content: body.content ?? current.content,
    };
    const textChanged = searchableText(next) !== searchableText(current);
    const row = await updateMentalModel(db, project.id, id, {
      ...next,
      tags: body.tags ? [...new Set(body.tags)] : undefined,
      maxTokens: body.max_tokens ?? undefined,
      lastRefreshedAt: body.lastRefreshedAt,
      ...(textChanged ? await embedding(next) : {}),
    });
    if (!row) throw notFound('Mental model');
    return row;
  }

  return {
    get,
    update,

    async create(project: ProjectRow, body: CreateMentalModelBody): Promise<MentalModelRow> {
      const fields = { name: body.name, sourceQuery: body.source_query, content: body.content ?? '' };
      const row = await insertMentalModel(db, {
        projectId: project.id,
        ...(body.id ? { id: body.id } : {}),
        ...fields,
        tags: [...new Set(body.tags ?? [])],
        ...(body.max_tokens ? { maxTokens: body.max_tokens } : {}),
        ...(await embedding(fields)),
      });
      if (!row) throw conflict(`A mental model with id "${body.id}" already exists`);
      return row;
    },

    list(project: ProjectRow, query: { tags?: string | string[]; tags_match: TagMatch; limit: number; offset: number }) {
      const tags = query.tags === undefined ? [] : [query.tags].flat();
      return listMentalModels(db, project.id, {
        limit: query.limit,
        offset: query.offset,
        tagCondition: tags.length ? tagMatchCondition(sql`${mentalModels.tags}`, tags, query.tags_match) : undefined,
      });
    },

    async remove(project: ProjectRow, id: string): Promise<MentalModelRow> {
      const row = await deleteMentalModel(db, project.id, id);
      if (!row) throw notFound('Mental model');
      return row;
    },

    /**
     * Runs reflect on the model's question and stores the answer. A tagged model reads only
     * memories carrying all its tags (Hindsight's default, so one scope cannot leak into
     * another), and never its own previous content.
     */
    async refresh(project: ProjectRow, id: string): Promise<{ operationId: string; row: MentalModelRow }> {
      const model = await get(project, id);
      const tagged = model.tags.length > 0;
      const answer = await withLlmCallContext({ purpose: 'mental_model_refresh' }, () =>
        deps.reflect.reflect(
          project,
          reflectBody.parse({
            query: model.sourceQuery,
            budget: 'mid',
            max_tokens: model.maxTokens,
            tags: tagged ? model.tags : null,
            tags_match: tagged ? 'all_strict' : 'any',
            exclude_mental_model_ids: [model.id],
          }),
        ),
      );
      const row = await update(project, id, { content: storableText(answer.text), lastRefreshedAt: new Date() });
      return { operationId: randomUUID(), row };
    },
  };
}

export type MentalModelService = ReturnType<typeof createMentalModelService>;
