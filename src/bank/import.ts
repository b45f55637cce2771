import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.js';
import { insertBank, takenIds, type BankRows } from '../db/bank.js';
import type { Embedder } from '../embeddings/embedder.js';
import { conflict, ValidationError, type ValidationIssue } from '../http/errors.js';
import { searchableText } from '../reflect/mentalModels.js';
import {
  bankLine,
  type BankCounts,
  type DirectiveLine,
  type HeaderLine,
  type MemoryEventLine,
  type MemoryLine,
  type MentalModelLine,
  type QUpdateLine,
  type SkillLine,
} from './format.js';

/** At most this many problems are reported; the first already says which line is bad. */
const MAX_ISSUES = 20;
const EMBED_BATCH = 64;

export interface ImportSummary extends BankCounts {
  /** Memories and mental models whose vectors were of another model than this server's, so re-embedded. */
  reembedded: number;
  /** Memories and directives whose id was taken in this database, so given a new one. */
  new_ids: number;
}

export type ImportProgress = (stage: 'read' | 'embedded' | 'written', n: number) => void;

interface ParsedBank {
  header: HeaderLine;
  memories: MemoryLine[];
  qUpdates: QUpdateLine[];
  events: MemoryEventLine[];
  mentalModels: MentalModelLine[];
  directives: DirectiveLine[];
  skills: SkillLine[];
}

/**
 * Reads a whole bank file and checks every line (JSON, shape, references, the header's counts)
 * before anything is written: a bad line is a 422 naming it (`loc: ['body', <line number>, …]`).
 */
export async function parseBank(lines: AsyncIterable<string>, onProgress?: ImportProgress): Promise<ParsedBank> {
  const issues: ValidationIssue[] = [];
  const bank: Partial<ParsedBank> & Omit<ParsedBank, 'header'> = { memories: [], qUpdates: [], events: [], mentalModels: [], directives: [], skills: [] };
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (n % 1000 === 0) onProgress?.('read', n);
    if (issues.length >= MAX_ISSUES) continue;
    if (!raw.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      issues.push({ loc: ['body', n], msg: `line ${n}: not JSON (${(err as Error).message})`, type: 'json_invalid' });
      continue;
    }
    const parsed = bankLine.safeParse(value);
    if (!parsed.success) {
      for (const i of parsed.error.issues) issues.push({ loc: ['body', n, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], msg: `line ${n}: ${i.message}`, type: i.code });
      continue;
    }
    const line = parsed.data;
    if ((n === 1) !== (line.kind === 'header')) {
      issues.push({ loc: ['body', n, 'kind'], msg: `line ${n}: the first line, and only it, must be the header`, type: 'header' });
      continue;
    }
    switch (line.kind) {
      case 'header': bank.header = line; break;
      case 'memory': bank.memories.push(line); break;
      case 'q_update': bank.qUpdates.push(line); break;
      case 'memory_event': bank.events.push(line); break;
      case 'mental_model': bank.mentalModels.push(line); break;
      case 'directive': bank.directives.push(line); break;
      case 'skill': bank.skills.push(line); break;
    }
  }
  if (n === 0) issues.push({ loc: ['body'], msg: 'The bank file is empty (a header line comes first)', type: 'missing' });
  if (issues.length === 0) issues.push(...consistencyIssues(bank as ParsedBank));
  if (issues.length) throw new ValidationError(issues.slice(0, MAX_ISSUES));
  return bank as ParsedBank;
}

function consistencyIssues(bank: ParsedBank): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const duplicate = (what: string, keys: (string | number)[]) => {
    const seen = new Set<string | number>();
    for (const k of keys) {
      if (seen.has(k)) issues.push({ loc: ['body'], msg: `${what} ${k} appears twice`, type: 'duplicate' });
      seen.add(k);
    }
    return seen;
  };
  const memoryIds = duplicate('memory', bank.memories.map((m) => m.id));
  duplicate('mental model', bank.mentalModels.map((m) => m.id));
  duplicate('directive', bank.directives.map((d) => d.id));
  duplicate('Skill version', bank.skills.map((s) => s.version));
  for (const h of [...bank.qUpdates, ...bank.events]) {
    if (!memoryIds.has(h.memory_id)) issues.push({ loc: ['body'], msg: `a history entry names memory ${h.memory_id}, which is not in the file`, type: 'reference' });
  }
  const found: BankCounts = {
    memories: bank.memories.length,
    history: bank.qUpdates.length + bank.events.length,
    mental_models: bank.mentalModels.length,
    directives: bank.directives.length,
    skills: bank.skills.length,
  };
  for (const [k, v] of Object.entries(bank.header.counts) as [keyof BankCounts, number][]) {
    if (found[k] !== v) issues.push({ loc: ['body', 1, 'counts', k], msg: `the header counts ${v} ${k}, the file holds ${found[k]} (cut short?)`, type: 'count' });
  }
  return issues.slice(0, MAX_ISSUES);
}

/**
 * Imports a parsed bank into an empty project. Vectors of this server's embedding model are kept
 * (so queries rank exactly as on the exporting server); others are re-embedded. Ids are kept where
 * free, else replaced, with every reference in the file remapped. Q-updates become memory events
 * of kind `imported_q_update` (their traces are not in the file), with the original figures.
 */
export async function importBank(
  deps: { db: Db; embedder: Embedder },
  projectId: string,
  bank: ParsedBank,
  onProgress?: ImportProgress,
): Promise<ImportSummary> {
  const { db, embedder } = deps;
  const stale = (e: { embedding: number[] | null; embedding_model: string | null }) =>
    e.embedding === null || e.embedding_model !== embedder.model || e.embedding.length !== embedder.dimensions;
  const memoryVectors = await embedWhereStale(embedder, bank.memories, stale, (m) => m.task, onProgress);
  const modelVectors = await embedWhereStale(embedder, bank.mentalModels, stale, (m) =>
    searchableText({ name: m.name, sourceQuery: m.source_query, content: m.content }),
  );

  const [takenMemories, takenDirectives] = await Promise.all([
    takenIds(db, 'memories', bank.memories.map((m) => m.id)),
    takenIds(db, 'directives', bank.directives.map((d) => d.id)),
  ]);
  const memoryId = new Map(bank.memories.map((m) => [m.id, takenMemories.has(m.id) ? randomUUID() : m.id]));
  const date = (s: string) => new Date(s);
  const dateOrNull = (s: string | null) => (s ? new Date(s) : null);

  const rows: BankRows = {
    memories: bank.memories.map((m, i) => ({
      id: memoryId.get(m.id)!,
      projectId,
      task: m.task,
      reflection: m.reflection,
      qValue: m.q_value,
      success: m.success,
      summary: m.summary,
      keyMistake: m.key_mistake,
      correctAction: m.correct_action,
      guidance: m.guidance,
      applicableTools: m.applicable_tools,
      toolsUsed: m.tools_used,
      metadata: m.metadata,
      tags: m.tags,
      reflectionSource: m.reflection_source,
      factType: m.fact_type,
      embedding: memoryVectors[i]!,
      embeddingModel: embedder.model,
      // The traces stay behind on the exporting server: the ids are kept as a record only.
      sourceTraceId: null,
      sourceTraceIds: m.source_trace_ids,
      useCount: m.use_count,
      lastUsedAt: dateOrNull(m.last_used_at),
      evidenceCount: m.evidence_count,
      invalidatedAt: dateOrNull(m.invalidated_at),
      invalidReason: m.invalid_reason,
      invalidatedByKeyId: m.invalidated_by_key_id,
      invalidatedByLabel: m.invalidated_by_label,
      expiresAt: dateOrNull(m.expires_at),
      createdAt: date(m.created_at),
      updatedAt: date(m.updated_at),
    })),
    memoryEvents: [
      ...bank.qUpdates.map((u) => ({
        memoryId: memoryId.get(u.memory_id)!,
        kind: 'imported_q_update' as const,
        traceId: null,
        qValue: u.q_after,
        detail: {
          q_before: u.q_before,
          q_after: u.q_after,
          reward: u.reward,
          alpha: u.alpha,
          original_trace_id: u.trace_id,
          review_source: u.review_source ?? 'human',
          ...(u.overridden && { overridden: u.overridden }),
        },
        createdAt: date(u.created_at),
      })),
      ...bank.events.map((e) => ({
        memoryId: memoryId.get(e.memory_id)!,
        kind: e.event,
        traceId: null,
        actorKeyId: e.actor_key_id,
        actorLabel: e.actor_label,
        qValue: e.q_value,
        detail: e.trace_id && !('original_trace_id' in e.detail) ? { ...e.detail, original_trace_id: e.trace_id } : e.detail,
        createdAt: date(e.created_at),
      })),
    ],
    mentalModels: bank.mentalModels.map((m, i) => ({
      projectId,
      id: m.id,
      name: m.name,
      sourceQuery: m.source_query,
      content: m.content,
      tags: m.tags,
      maxTokens: m.max_tokens,
      embedding: modelVectors[i]!,
      embeddingModel: embedder.model,
      lastRefreshedAt: dateOrNull(m.last_refreshed_at),
      createdAt: date(m.created_at),
      updatedAt: date(m.updated_at),
    })),
    directives: bank.directives.map((d) => ({
      id: takenDirectives.has(d.id) ? randomUUID() : d.id,
      projectId,
      name: d.name,
      content: d.content,
      priority: d.priority,
      isActive: d.is_active,
      tags: d.tags,
      createdAt: date(d.created_at),
      updatedAt: date(d.updated_at),
    })),
    skills: bank.skills.map((s) => ({
      projectId,
      version: s.version,
      // A build that was still running on the exporting server never finishes here.
      status: s.status === 'building' ? ('failed' as const) : s.status,
      name: s.name,
      description: s.description,
      markdown: s.markdown,
      source: s.source,
      builtFrom: remapBuiltFrom(s.built_from, memoryId),
      instructions: s.instructions,
      error: s.status === 'building' ? 'The build was still running when the bank was exported' : s.error,
      requestedByKeyId: s.requested_by_key_id,
      requestedByLabel: s.requested_by_label,
      createdAt: date(s.created_at),
      completedAt: dateOrNull(s.completed_at),
    })),
  };
  const outcome = await insertBank(db, projectId, rows, (n) => onProgress?.('written', n));
  if (outcome === 'not_empty') throw conflict('The project already holds memories, mental models, directives or Skills; import into an empty project');
  const reembedded = [...bank.memories, ...bank.mentalModels].filter(stale).length;
  return {
    memories: rows.memories.length,
    history: rows.memoryEvents.length,
    mental_models: rows.mentalModels.length,
    directives: rows.directives.length,
    skills: rows.skills.length,
    reembedded,
    new_ids: takenMemories.size + takenDirectives.size,
  };
}

async function embedWhereStale<T extends { embedding: number[] | null; embedding_model: string | null }>(
  embedder: Embedder,
  items: T[],
  stale: (item: T) => boolean,
  text: (item: T) => string,
  onProgress?: ImportProgress,
): Promise<number[][]> {
  const vectors = items.map((item) => item.embedding ?? []);
  const todo = items.flatMap((item, i) => (stale(item) ? [i] : []));
  for (let b = 0; b < todo.length; b += EMBED_BATCH) {
    const batch = todo.slice(b, b + EMBED_BATCH);
    const embedded = await embedder.embed(batch.map((i) => text(items[i]!)));
    batch.forEach((i, j) => (vectors[i] = embedded[j]!));
    onProgress?.('embedded', Math.min(b + EMBED_BATCH, todo.length));
  }
  return vectors;
}

/** A Skill's `built_from.memory_ids` ({strategies: [ids], pitfalls: [ids]}) with the memories' new ids. */
function remapBuiltFrom(builtFrom: Record<string, unknown>, memoryId: Map<string, string>): Record<string, unknown> {
  const ids = builtFrom.memory_ids;
  if (!ids || typeof ids !== 'object' || Array.isArray(ids)) return builtFrom;
  const remapped = Object.fromEntries(
    Object.entries(ids).map(([k, v]) => [k, Array.isArray(v) ? v.map((id) => (typeof id === 'string' ? (memoryId.get(id) ?? id) : id)) : v]),
  );
  return { ...builtFrom, memory_ids: remapped };
}
