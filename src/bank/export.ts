import type { Db } from '../db/client.js';
import { bankCounts, historyOf, memoryEmbeddingModels, memoryPage, projectBankRest } from '../db/bank.js';
import type { DirectiveRow, MemoryEventRow, MemoryRow, MentalModelRow, ProjectRow, QValueUpdateRow, SkillRow } from '../db/schema.js';
import { BANK_FORMAT_VERSION, type BankCounts, type BankLine } from './format.js';

const PAGE = 500;
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * A project's bank as JSON Lines, one string per line (without the newline), read page by page
 * so a large bank never sits in memory whole. `onProgress` hears every line with the counts so far.
 * Not a snapshot: holding one transaction open for a whole export would stall the embedded engine
 * (one connection at a time). A write landing mid-export can make the header's counts disagree
 * with the lines; the import then refuses the file as cut short, and an export again fixes it.
 */
export async function* exportBank(
  db: Db,
  project: Pick<ProjectRow, 'id' | 'slug'>,
  onProgress?: (lines: number, counts: BankCounts) => void,
): AsyncGenerator<string> {
  const counts = await bankCounts(db, project.id);
  const models = await memoryEmbeddingModels(db, project.id);
  const single = models.length === 1 ? models[0]! : undefined;
  const header: BankLine = {
    kind: 'header',
    format_version: BANK_FORMAT_VERSION,
    exported_at: new Date().toISOString(),
    project: project.slug,
    embedding_model: single?.model ?? null,
    dimensions: single?.dimensions ?? null,
    counts,
  };
  const done: BankCounts = { memories: 0, history: 0, mental_models: 0, directives: 0, skills: 0 };
  let lines = 0;
  const emit = (line: BankLine, counter?: keyof BankCounts) => {
    if (counter) done[counter]++;
    onProgress?.(++lines, done);
    return JSON.stringify(line);
  };
  yield emit(header);

  for (let after: string | null = null; ; ) {
    const page = await memoryPage(db, project.id, after, PAGE);
    if (page.length === 0) break;
    for (const m of page) yield emit(memoryToLine(m), 'memories');
    const { updates, events } = await historyOf(
      db,
      page.map((m) => m.id),
    );
    for (const u of updates) yield emit(qUpdateToLine(u), 'history');
    for (const e of events) yield emit(eventToLine(e), 'history');
    after = page.at(-1)!.id;
  }
  const rest = await projectBankRest(db, project.id);
  for (const m of rest.mentalModels) yield emit(mentalModelToLine(m), 'mental_models');
  for (const d of rest.directives) yield emit(directiveToLine(d), 'directives');
  for (const s of rest.skills) yield emit(skillToLine(s), 'skills');
}

function memoryToLine(m: MemoryRow): BankLine {
  return {
    kind: 'memory',
    id: m.id,
    task: m.task,
    reflection: m.reflection,
    q_value: m.qValue,
    success: m.success,
    summary: m.summary,
    key_mistake: m.keyMistake,
    correct_action: m.correctAction,
    guidance: m.guidance,
    applicable_tools: m.applicableTools,
    tools_used: m.toolsUsed,
    metadata: m.metadata,
    tags: m.tags,
    reflection_source: m.reflectionSource,
    fact_type: m.factType,
    embedding: m.embedding,
    embedding_model: m.embeddingModel,
    source_trace_id: m.sourceTraceId,
    source_trace_ids: m.sourceTraceIds,
    use_count: m.useCount,
    last_used_at: isoOrNull(m.lastUsedAt),
    evidence_count: m.evidenceCount,
    invalidated_at: isoOrNull(m.invalidatedAt),
    invalid_reason: m.invalidReason,
    invalidated_by_key_id: m.invalidatedByKeyId,
    invalidated_by_label: m.invalidatedByLabel,
    expires_at: isoOrNull(m.expiresAt),
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
}

function qUpdateToLine(u: QValueUpdateRow): BankLine {
  return {
    kind: 'q_update',
    memory_id: u.memoryId,
    trace_id: u.traceId,
    q_before: u.qBefore,
    q_after: u.qAfter,
    reward: u.reward,
    alpha: u.alpha,
    review_source: u.reviewSource,
    overridden: u.overridden,
    created_at: u.createdAt.toISOString(),
  };
}

function eventToLine(e: MemoryEventRow): BankLine {
  return {
    kind: 'memory_event',
    memory_id: e.memoryId,
    event: e.kind,
    trace_id: e.traceId,
    actor_key_id: e.actorKeyId,
    actor_label: e.actorLabel,
    q_value: e.qValue,
    detail: e.detail,
    created_at: e.createdAt.toISOString(),
  };
}

function mentalModelToLine(m: MentalModelRow): BankLine {
  return {
    kind: 'mental_model',
    id: m.id,
    name: m.name,
    source_query: m.sourceQuery,
    content: m.content,
    tags: m.tags,
    max_tokens: m.maxTokens,
    embedding: m.embedding,
    embedding_model: m.embeddingModel,
    last_refreshed_at: isoOrNull(m.lastRefreshedAt),
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
}

function directiveToLine(d: DirectiveRow): BankLine {
  return {
    kind: 'directive',
    id: d.id,
    name: d.name,
    content: d.content,
    priority: d.priority,
    is_active: d.isActive,
    tags: d.tags,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

function skillToLine(s: SkillRow): BankLine {
  return {
    kind: 'skill',
    version: s.version,
    status: s.status,
    name: s.name,
    description: s.description,
    markdown: s.markdown,
    source: s.source,
    built_from: s.builtFrom,
    instructions: s.instructions,
    error: s.error,
    requested_by_key_id: s.requestedByKeyId,
    requested_by_label: s.requestedByLabel,
    created_at: s.createdAt.toISOString(),
    completed_at: isoOrNull(s.completedAt),
  };
}
