import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import type { SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { hybridMemorySearch, type FoundMemory } from '../db/memorySearch.js';
import { nearestMentalModels, type FoundMentalModel } from '../db/mentalModels.js';
import type { FactType } from '../db/schema.js';
import { getTrace } from '../db/traces.js';
import type { Embedder } from '../embeddings/embedder.js';
import { messageText, type Message } from '../traces/trajectory.js';

export const TOOL_NAMES = {
  searchMentalModels: 'search_mental_models',
  searchMemories: 'search_memories',
  expandMemory: 'expand_memory',
  done: 'done',
} as const;

/** Enough results to compare, few enough to keep every turn's prompt small. */
const MENTAL_MODEL_RESULTS = 5;
const DEFAULT_MEMORY_RESULTS = 8;
const MAX_MEMORY_RESULTS = 20;
/** Long texts are cut for the prompt; the ids stay, so expand_memory can fetch more. */
const MAX_TEXT_CHARS = 2_000;
const MAX_MESSAGE_CHARS = 600;
const TRAJECTORY_TAIL_MESSAGES = 6;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… [cut]` : text);

export type ToolOutput = Record<string, unknown>;

/** What the tools returned so far: only these ids can be cited or expanded. */
export interface Evidence {
  memories: Map<string, FoundMemory>;
  mentalModels: Map<string, FoundMentalModel>;
  /** Every tool output, in order, for the final call when the tool turns run out. */
  outputs: { tool: string; input: unknown; output: ToolOutput }[];
}

export interface ToolContext {
  db: Db;
  /** The run's embedder (see embedderForRun). */
  embed: (text: string) => Promise<number[]>;
  /** Which embedding model the vectors are of. */
  embedder: Pick<Embedder, 'model' | 'dimensions'>;
  projectId: string;
  memoryTagCondition?: SQL;
  mentalModelTagCondition?: SQL;
  factTypes: FactType[] | null;
  /** False when the request excluded mental models: the tool is not offered, nor run if called anyway. */
  mentalModelsAllowed: boolean;
  excludeMentalModelIds: string[];
}

const queryArgs = z.object({ query: z.string().trim().min(1).max(2_000) });
const memoryArgs = queryArgs.extend({ limit: z.number().int().min(1).max(MAX_MEMORY_RESULTS).optional() });
const expandArgs = z.object({ memory_id: z.string().min(1).max(100) });

function fn(name: string, description: string, parameters: Record<string, unknown>): ChatCompletionFunctionTool {
  return { type: 'function', function: { name, description, parameters } };
}

/** The tool list of one turn; `done` carries the response schema when the caller gave one. */
export function toolDefinitions(options: { mentalModels: boolean; responseSchema: Record<string, unknown> | null }): ChatCompletionFunctionTool[] {
  const query = { type: 'string', description: 'What to look for, in your own words' };
  const ids = (what: string) => ({ type: 'array', items: { type: 'string' }, description: `Ids of the ${what} the answer rests on` });
  const done: Record<string, unknown> = {
    type: 'object',
    properties: {
      answer: { type: 'string', description: 'The answer, in markdown' },
      memory_ids: ids('memories'),
      mental_model_ids: ids('mental models'),
      ...(options.responseSchema ? { structured_output: options.responseSchema } : {}),
    },
    required: ['answer', 'memory_ids', ...(options.responseSchema ? ['structured_output'] : [])],
  };
  return [
    ...(options.mentalModels
      ? [fn(TOOL_NAMES.searchMentalModels, 'Search curated mental models: synthesized answers to standing questions about this bank.', {
          type: 'object',
          properties: { query },
          required: ['query'],
        })]
      : []),
    fn(TOOL_NAMES.searchMemories, 'Search memories (lessons from past runs, stored facts) by meaning and by words; better-proven lessons rank higher.', {
      type: 'object',
      properties: { query, limit: { type: 'integer', minimum: 1, maximum: MAX_MEMORY_RESULTS, description: `Default ${DEFAULT_MEMORY_RESULTS}` } },
      required: ['query'],
    }),
    fn(TOOL_NAMES.expandMemory, 'The run a memory was learned from: task, trajectory excerpt, final response and review feedback.', {
      type: 'object',
      properties: { memory_id: { type: 'string' } },
      required: ['memory_id'],
    }),
    fn(TOOL_NAMES.done, 'Finish with the answer and the ids it rests on. Only after searching.', done),
  ];
}

function memoryOutput(m: FoundMemory) {
  return {
    id: m.id,
    type: m.factType,
    task: clip(m.task, MAX_TEXT_CHARS),
    lesson: clip(m.reflection, MAX_TEXT_CHARS),
    outcome: m.success === null ? null : m.success ? 'pass' : 'fail',
    tags: m.tags,
    q_value: Number(m.qValue.toFixed(3)),
    score: Number(m.score.toFixed(3)),
  };
}

function trajectoryExcerpt(trajectory: Message[]) {
  const pick = trajectory.length <= TRAJECTORY_TAIL_MESSAGES + 1 ? trajectory : [trajectory[0]!, ...trajectory.slice(-TRAJECTORY_TAIL_MESSAGES)];
  const excerpt = pick.map((m) => ({ role: m.role, text: clip(messageText(m.content), MAX_MESSAGE_CHARS) }));
  return { messages: excerpt, omitted: trajectory.length - pick.length };
}

/**
 * One embedding per distinct text within a run, shared by concurrent callers: the service
 * starts embedding the question while the first LLM call runs, and a search for the question
 * itself (the usual first search) then finds its vector ready instead of waiting for the model.
 */
export function embedderForRun(embedder: Embedder): (text: string) => Promise<number[]> {
  const vectors = new Map<string, Promise<number[]>>();
  return (text) => {
    let vector = vectors.get(text);
    if (!vector) {
      vector = embedder.embed([text]).then(([v]) => v!);
      vectors.set(text, vector);
    }
    return vector;
  };
}

/** The executors: each returns a JSON object for the model, `{error}` when the call was wrong. */
export function createToolExecutors(ctx: ToolContext, evidence: Evidence) {
  const { embed } = ctx;

  return {
    async [TOOL_NAMES.searchMentalModels](raw: unknown): Promise<ToolOutput> {
      if (!ctx.mentalModelsAllowed) return { error: 'Mental models are excluded from this request: use search_memories.' };
      const args = queryArgs.safeParse(raw);
      if (!args.success) return { error: 'Give a non-empty "query".' };
      const found = await nearestMentalModels(ctx.db, {
        projectId: ctx.projectId,
        model: ctx.embedder.model,
        dimensions: ctx.embedder.dimensions,
        vector: await embed(args.data.query),
        tagCondition: ctx.mentalModelTagCondition,
        excludeIds: ctx.excludeMentalModelIds,
        limit: MENTAL_MODEL_RESULTS,
      });
      for (const m of found) evidence.mentalModels.set(m.id, m);
      return {
        mental_models: found.map((m) => ({
          id: m.id,
          name: m.name,
          question: m.sourceQuery,
          content: m.content ? clip(m.content, MAX_TEXT_CHARS * 2) : '(not written yet)',
          similarity: Number(m.similarity.toFixed(3)),
        })),
      };
    },

    async [TOOL_NAMES.searchMemories](raw: unknown): Promise<ToolOutput> {
      const args = memoryArgs.safeParse(raw);
      if (!args.success) return { error: `Give a non-empty "query" and optionally "limit" (1-${MAX_MEMORY_RESULTS}).` };
      const found = await hybridMemorySearch(ctx.db, {
        projectId: ctx.projectId,
        model: ctx.embedder.model,
        dimensions: ctx.embedder.dimensions,
        vector: await embed(args.data.query),
        text: args.data.query,
        tagCondition: ctx.memoryTagCondition,
        factTypes: ctx.factTypes,
        limit: args.data.limit ?? DEFAULT_MEMORY_RESULTS,
      });
      for (const m of found) evidence.memories.set(m.id, m);
      return { memories: found.map(memoryOutput) };
    },

    async [TOOL_NAMES.expandMemory](raw: unknown): Promise<ToolOutput> {
      const args = expandArgs.safeParse(raw);
      if (!args.success) return { error: 'Give "memory_id".' };
      // Only memories a search returned: the filters of the request (tags, fact types) hold here too.
      const memory = evidence.memories.get(args.data.memory_id);
      if (!memory) return { error: `Unknown memory id ${args.data.memory_id}: expand only ids that search_memories returned.` };
      const trace = memory.sourceTraceId ? await getTrace(ctx.db, ctx.projectId, memory.sourceTraceId) : undefined;
      if (!trace) return { memory: memoryOutput(memory), source: null, note: 'No recorded run: this memory was stored directly.' };
      return {
        memory: memoryOutput(memory),
        source: {
          task: clip(trace.task, MAX_TEXT_CHARS),
          trajectory_excerpt: trajectoryExcerpt(trace.trajectory as Message[]),
          final_response: clip(trace.finalResponse, MAX_TEXT_CHARS),
          review: trace.reviewResult ? { result: trace.reviewResult, feedback: trace.reviewFeedback ?? '' } : null,
        },
      };
    },
  } satisfies Record<Exclude<(typeof TOOL_NAMES)[keyof typeof TOOL_NAMES], 'done'>, (raw: unknown) => Promise<ToolOutput>>;
}

export type ToolExecutors = ReturnType<typeof createToolExecutors>;
