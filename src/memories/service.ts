import type { Db } from '../db/client.js';
import { getMemory, insertMemory, listMemories } from '../db/memories.js';
import type { MemoryRow, ProjectRow } from '../db/schema.js';
import type { Embedder } from '../embeddings/embedder.js';
import { notFound } from '../http/errors.js';
import { iso } from '../http/schemas.js';
import type { CreateMemoryBody, ListMemoriesQuery, MemoryWire } from './models.js';
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
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;
