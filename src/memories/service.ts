import type { Db } from '../db/client.js';
import { deleteMemory, getMemory, insertMemory, listMemories, type NewMemory } from '../db/memories.js';
import type { MemoryEventRow, MemoryRow, ProjectRow, QValueUpdateRow } from '../db/schema.js';
import { nearestMemories } from '../db/vectorSearch.js';
import type { Embedder } from '../embeddings/embedder.js';
import { conflict, notFound } from '../http/errors.js';
import { iso, isoOrNull } from '../http/schemas.js';
import { defaultSecretRedactor, type SecretRedactor } from '../security/secrets.js';
import { augmentedTask } from './augment.js';
import { editMemory, invalidateMemory, memoryHistoryEntries, restoreMemory, type Actor, type HistoryEntry, type ValidityChange } from '../db/memoryEvents.js';
import type { CreateMemoryBody, ListMemoriesQuery, MemoryState, MemoryWire, QueryMemoriesBody, UpdateMemoryBody } from './models.js';
import { rankMemories, type RankedMemory, type RetrievalDefaults } from './ranking.js';
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
    source_trace_ids: row.sourceTraceIds,
    evidence_count: row.evidenceCount,
    state: memoryStateOf(row),
    invalid_reason: row.invalidReason,
    invalidated_at: isoOrNull(row.invalidatedAt),
    invalidated_by: row.invalidatedByKeyId ? { key_id: row.invalidatedByKeyId, label: row.invalidatedByLabel ?? '' } : null,
    expires_at: isoOrNull(row.expiresAt),
    use_count: row.useCount ?? 0,
    last_used_at: isoOrNull(row.lastUsedAt ?? null),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

/** Invalid wins over expired: an invalidated memory stays invalid whatever its expiry. */
export function memoryStateOf(row: Pick<MemoryRow, 'invalidatedAt' | 'expiresAt'>, now = new Date()): MemoryState {
  if (row.invalidatedAt) return 'invalid';
  if (row.expiresAt && row.expiresAt <= now) return 'expired';
  return 'active';
}

export function createMemoryService(deps: { db: Db; embedder: Embedder; retrieval: RetrievalDefaults; redactor?: SecretRedactor }) {
  const { db, embedder, retrieval } = deps;
  // Agent-authored text is free text like a trace's: secrets in it are replaced before storing.
  const redactor = deps.redactor ?? defaultSecretRedactor;
  return {
    /** What a query that leaves λ or the threshold out gets. */
    retrieval,

    /** An agent-authored memory: starts at q 0.5 like every other. */
    async create(project: ProjectRow, sent: CreateMemoryBody): Promise<MemoryRow> {
      const body = redactor.redact(sent, {});
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
        expiresAt: body.expires_at ?? null,
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
      // Parameters the caller gave keep the contract's formula; the ones left out take the defaults.
      return rankMemories(candidates, {
        lambda: body.lambda_ ?? retrieval.lambda,
        similarityThreshold: body.similarity_threshold,
        defaultGate: retrieval.gate,
        mmrLambda: body.mmr_lambda,
        limit: body.limit,
      });
    },

    async augment(project: ProjectRow, body: QueryMemoriesBody): Promise<{ augmented_task: string; memories: MemoryWire[] }> {
      const ranked = (await this.query(project, body)).map((m) => toMemoryWire(m.row, m));
      return { augmented_task: augmentedTask(body.task, ranked), memories: ranked };
    },

    /** A changed task gets a new vector, so retrieval keeps matching what the memory says. */
    async update(project: ProjectRow, id: string, sent: UpdateMemoryBody, actor: Actor): Promise<MemoryRow> {
      const body = redactor.redact(sent, {});
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
        expiresAt: body.expires_at,
      };
      if (body.task !== undefined && body.task !== current.task) {
        const [embedding] = await embedder.embed([body.task]);
        Object.assign(changes, { embedding: embedding!, embeddingModel: embedder.model });
      }
      const row = await editMemory(db, project.id, id, changes, actor);
      if (!row) throw notFound('Memory');
      return row;
    },

    /** An invalid memory is never retrieved but stays listed, with its reason and who invalidated it. */
    async invalidate(project: ProjectRow, id: string, reason: string, actor: Actor): Promise<MemoryRow> {
      return changedOrThrow(await invalidateMemory(db, project.id, id, reason, actor));
    },

    async restore(project: ProjectRow, id: string, reason: string | null, actor: Actor): Promise<MemoryRow> {
      return changedOrThrow(await restoreMemory(db, project.id, id, reason, actor));
    },

    async remove(project: ProjectRow, id: string): Promise<MemoryRow> {
      const row = await deleteMemory(db, project.id, id);
      if (!row) throw notFound('Memory');
      return row;
    },

    /** Every change to the memory, oldest first. */
    async history(project: ProjectRow, id: string): Promise<HistoryEntry[]> {
      await this.get(project, id);
      return memoryHistoryEntries(db, id);
    },
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;

function changedOrThrow(change: ValidityChange): MemoryRow {
  if (!change) throw notFound('Memory');
  if ('conflict' in change) {
    throw conflict(change.conflict === 'already_invalid' ? 'The memory is already invalid; restore it first' : 'The memory is not invalid, so there is nothing to restore');
  }
  return change.row;
}

/** A history entry on the wire: Q-updates keep the original QValueChange fields. */
export function toHistoryWire(entry: HistoryEntry) {
  if (entry.kind === 'q_update') {
    const h = entry.row;
    return {
      kind: 'q_update' as const,
      memory_id: h.memoryId,
      trace_id: h.traceId,
      q_before: h.qBefore,
      q_after: h.qAfter,
      reward: h.reward,
      alpha: h.alpha,
      actor: { type: 'learning_loop' as const, key_id: null, label: null },
      detail: qUpdateDetail(h),
      created_at: iso(h.createdAt),
    };
  }
  const e = entry.row as MemoryEventRow;
  if (e.kind === 'review_override') {
    // A human override corrected this memory's Q: before and after are the correction's, reward
    // and alpha the human review's (the judge's are in detail.judge).
    const d = e.detail as { q_before?: number; q_after?: number; human?: { reward?: number; alpha?: number } };
    return {
      kind: e.kind,
      memory_id: e.memoryId,
      trace_id: e.traceId,
      q_before: d.q_before ?? e.qValue,
      q_after: d.q_after ?? e.qValue,
      reward: d.human?.reward ?? null,
      alpha: d.human?.alpha ?? null,
      actor: actorOf(e),
      detail: e.detail,
      created_at: iso(e.createdAt),
    };
  }
  if (e.kind === 'imported_q_update') {
    // A Q-update from a bank import: its figures are in the detail (the original trace_id too,
    // which names a trace of the exporting server).
    const d = e.detail as { q_before?: number; q_after?: number; reward?: number; alpha?: number };
    return {
      kind: e.kind,
      memory_id: e.memoryId,
      trace_id: null,
      q_before: d.q_before ?? e.qValue,
      q_after: d.q_after ?? e.qValue,
      reward: d.reward ?? null,
      alpha: d.alpha ?? null,
      actor: { type: 'learning_loop' as const, key_id: null, label: null },
      detail: e.detail,
      created_at: iso(e.createdAt),
    };
  }
  return {
    kind: e.kind,
    memory_id: e.memoryId,
    trace_id: e.traceId,
    q_before: e.qValue,
    q_after: e.qValue,
    reward: null,
    alpha: null,
    actor: actorOf(e),
    detail: e.detail,
    created_at: iso(e.createdAt),
  };
}

function actorOf(e: MemoryEventRow) {
  return e.actorKeyId
    ? { type: 'api_key' as const, key_id: e.actorKeyId, label: e.actorLabel }
    : { type: 'learning_loop' as const, key_id: null, label: null };
}

/**
 * Nothing for a human review's update (as before the judge existed); the judge's shows its
 * source; one a human override replaced shows `human` and the judge's original figures.
 */
function qUpdateDetail(h: QValueUpdateRow): Record<string, unknown> {
  if (h.overridden) return { review_source: h.reviewSource, overridden: h.overridden };
  return h.reviewSource === 'judge' ? { review_source: 'judge' } : {};
}
