import type { Db } from '../db/client.js';
import { deleteMemory, getMemory, insertMemory, listMemories, memoryHistory, updateMemory, type NewMemory } from '../db/memories.js';
import type { MemoryRow, ProjectRow, QValueUpdateRow } from '../db/schema.js';
import { nearestMemories } from '../db/vectorSearch.js';
import type { Embedder } from '../embeddings/embedder.js';
import { notFound } from '../http/errors.js';
import { iso } from '../http/schemas.js';
import { augmentedTask } from './augment.js';
import type { CreateMemoryBody, ListMemoriesQuery, MemoryWire, QueryMemoriesBody, UpdateMemoryBody } from './models.js';
import { rankMemories, type RankedMemory } from './ranking.js';
import { tagsOf } from './tags.js';

export function toMemoryWire(row: MemoryRow, ranking = { similarity: 0, score: 0 }): MemoryWire {
  return {
    id: row.id,
    task: row.task,
    reflection: row.reflection,
    q_value: row.qValue,
    similarity: ranking.similarity,
    score: ranking.score,
    success: row.success,
    summary: row.summary,
    key_mistake: row.keyMistake,
    correct_action: row.correctAction,
    guidance: row.guidance,
    applicable_tools: row.applicableTools,
    tools_used: row.toolsUsed,
    metadata: row.metadata,
    tags: row.tags,
    // Rows from nearestMemories lack it until that query reads fact_type (see MemoryRow).
    fact_type: row.factType,
    source_trace_id: row.sourceTraceId,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export function createMemoryService(deps: { db: Db; embedder: Embedder }) {
  const { db, embedder } = deps;
  return {
    /** An agent-authored memory: starts at q 0.5 like every other. */
    async create(project: ProjectRow, body: CreateMemoryBody): Promise<MemoryRow> {
      const [embedding] = await embedder.embed([body.task]);
      const metadata = body.metadata ?? {};
      const result = body.result ?? null;
      return insertMemory(db, {
        projectId: project.id,
        task: body.task,
        reflection: body.reflection,
        success: result === null ? null : result === 'pass' || result === 'success',
        summary: body.summary ?? '',
        keyMistake: body.key_mistake ?? '',
        correctAction: body.correct_action ?? '',
        guidance: body.guidance ?? '',
        applicableTools: body.applicable_tools ?? [],
        toolsUsed: body.tools_used ?? [],
        metadata,
        tags: body.tags ? [...new Set(body.tags)] : tagsOf(metadata),
        factType: body.fact_type ?? 'experience',
        embedding: embedding!,
        embeddingModel: embedder.model,
      });
    },

    async get(project: ProjectRow, id: string): Promise<MemoryRow> {
      const row = await getMemory(db, project.id, id);
      if (!row) throw notFound('Memory');
      return row;
    },

    list(project: ProjectRow, query: ListMemoriesQuery) {
      return listMemories(db, project.id, query);
    },

    /**
     * Ranked retrieval: a candidate pool several times `limit` from the vector index (project,
     * model and metadata filter applied in SQL), then the contract's blend, threshold and MMR.
     */
    async query(project: ProjectRow, body: QueryMemoriesBody): Promise<RankedMemory[]> {
      const [vector] = await embedder.embed([body.task]);
      const candidates = await nearestMemories(db, {
        projectId: project.id,
        model: embedder.model,
        dimensions: embedder.dimensions,
        vector: vector!,
        metadataFilter: body.metadata_filter ?? {},
        poolSize: Math.min(Math.max(body.limit * 5, 50), 500),
      });
      return rankMemories(candidates, {
        lambda: body.lambda_,
        similarityThreshold: body.similarity_threshold ?? null,
        mmrLambda: body.mmr_lambda,
        limit: body.limit,
      });
    },

    async augment(project: ProjectRow, body: QueryMemoriesBody): Promise<{ augmented_task: string; memories: MemoryWire[] }> {
      const ranked = (await this.query(project, body)).map((m) => toMemoryWire(m.row, m));
      return { augmented_task: augmentedTask(body.task, ranked), memories: ranked };
    },

    /** A changed task gets a new vector, so retrieval keeps matching what the memory says. */
    async update(project: ProjectRow, id: string, body: UpdateMemoryBody): Promise<MemoryRow> {
      const current = await this.get(project, id);
      const changes: Partial<NewMemory> = {
        task: body.task,
        reflection: body.reflection,
        metadata: body.metadata,
        tags: body.tags && [...new Set(body.tags)],
        factType: body.fact_type,
        summary: body.summary,
        keyMistake: body.key_mistake,
        correctAction: body.correct_action,
        guidance: body.guidance,
        applicableTools: body.applicable_tools,
        toolsUsed: body.tools_used,
      };
      if (body.task !== undefined && body.task !== current.task) {
        const [embedding] = await embedder.embed([body.task]);
        Object.assign(changes, { embedding: embedding!, embeddingModel: embedder.model });
      }
      const row = await updateMemory(db, project.id, id, changes);
      if (!row) throw notFound('Memory');
      return row;
    },

    async remove(project: ProjectRow, id: string): Promise<MemoryRow> {
      const row = await deleteMemory(db, project.id, id);
      if (!row) throw notFound('Memory');
      return row;
    },

    async history(project: ProjectRow, id: string): Promise<QValueUpdateRow[]> {
      await this.get(project, id);
      return memoryHistory(db, id);
    },
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;
