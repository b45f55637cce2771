import { sql } from 'drizzle-orm';
import type OpenAI from 'openai';
import type { Db } from '../db/client.js';
import { listDirectives } from '../db/directives.js';
import { countMentalModels } from '../db/mentalModels.js';
import { directives as directivesTable, mentalModels, type ProjectRow } from '../db/schema.js';
import type { Embedder } from '../embeddings/embedder.js';
import { currentLlmCallContext, withLlmCallContext } from '../llm/usage/context.js';
import { runReflectAgent } from './agent.js';
import { llmNotConfigured } from './errors.js';
import { BUDGET_TOOL_TURNS, type ReflectBody, type ReflectResponse } from './models.js';
import { directiveScopeCondition, tagScopeCondition, type TagScope } from './tagFilter.js';
import { createToolExecutors, embedderForRun, type Evidence } from './tools.js';

/** More directives than this in one prompt would crowd out the evidence. */
const MAX_DIRECTIVES = 50;

export interface ReflectServiceDeps {
  db: Db;
  embedder: Embedder;
  /** Undefined without OPENAI_API_KEY: reflect answers 400. */
  openai: OpenAI | undefined;
  model: string;
  timeoutMs: number;
}

export function createReflectService(deps: ReflectServiceDeps) {
  const { db, embedder, openai } = deps;

  return {
    /**
     * An answer to `query` grounded in the project's memories: the request's filters become SQL
     * conditions the tools apply, the agent loop gathers evidence and answers, and the whole run
     * is bounded by one wall-clock limit.
     */
    async reflect(project: ProjectRow, body: ReflectBody): Promise<ReflectResponse> {
      if (!openai) throw llmNotConfigured();
      const deadline = Date.now() + deps.timeoutMs;
      const embed = embedderForRun(embedder);
      // Off the critical path: the question embeds while the database and the first LLM call
      // work (a failure surfaces in the search that needs the vector, not here).
      embed(body.query).catch(() => undefined);
      const scope: TagScope = { tags: body.tags, tagsMatch: body.tags_match, tagGroups: body.tag_groups };
      const mentalModelTagCondition = tagScopeCondition(sql`${mentalModels.tags}`, scope);
      const excludeMentalModelIds = body.exclude_mental_model_ids ?? [];
      const [directives, mentalModelCount] = await Promise.all([
        listDirectives(db, project.id, {
          activeOnly: true,
          tagCondition: directiveScopeCondition(sql`${directivesTable.tags}`, body.tags, body.apply_all_directives),
          limit: MAX_DIRECTIVES,
          offset: 0,
        }),
        body.exclude_mental_models ? 0 : countMentalModels(db, project.id, mentalModelTagCondition, excludeMentalModelIds),
      ]);

      const evidence: Evidence = { memories: new Map(), mentalModels: new Map(), outputs: [] };
      const executors = createToolExecutors(
        {
          db,
          embed,
          embedder,
          projectId: project.id,
          memoryTagCondition: tagScopeCondition(sql`m.tags`, scope),
          mentalModelTagCondition,
          factTypes: body.fact_types ?? null,
          mentalModelsAllowed: !body.exclude_mental_models,
          excludeMentalModelIds,
        },
        evidence,
      );
      // Logged as `reflect` unless a caller said what for (a mental-model refresh).
      const llmContext = { projectId: project.id, purpose: currentLlmCallContext().purpose ?? 'reflect' };
      const result = await withLlmCallContext(llmContext, () =>
        runReflectAgent({
          client: openai,
          model: deps.model,
          query: body.query,
          context: body.context,
          toolTurns: BUDGET_TOOL_TURNS[body.budget],
          maxTokens: body.max_tokens,
          responseSchema: body.response_schema ?? null,
          directives,
          mentalModels: mentalModelCount > 0,
          executors,
          evidence,
          deadline,
          timeoutMs: deps.timeoutMs,
        }),
      );

      // Without a done (the answer came from the last, tool-less call) it rests on all the evidence.
      const memoryIds = result.cited?.memoryIds ?? [...evidence.memories.keys()];
      const mentalModelIds = result.cited?.mentalModelIds ?? [...evidence.mentalModels.keys()];
      const response: ReflectResponse = {
        text: body.response_schema ? '' : result.answer,
        structured_output: result.structuredOutput,
        usage: { input_tokens: result.usage.input, output_tokens: result.usage.output, total_tokens: result.usage.input + result.usage.output },
      };
      if (body.include?.facts) {
        response.based_on = {
          memories: memoryIds.map((id) => evidence.memories.get(id)!).map((m) => ({ id: m.id, text: m.reflection, type: m.factType, context: m.task })),
          mental_models: mentalModelIds.map((id) => evidence.mentalModels.get(id)!).map((m) => ({ id: m.id, text: m.content, context: m.name })),
          directives: directives.map((d) => ({ id: d.id, name: d.name, content: d.content })),
        };
      }
      if (body.include?.tool_calls) {
        const withOutput = body.include.tool_calls.output;
        response.trace = {
          tool_calls: result.toolCalls.map((c) => ({ ...c, output: withOutput ? c.output : null })),
          llm_calls: result.llmCalls,
        };
      }
      return response;
    },
  };
}

export type ReflectService = ReturnType<typeof createReflectService>;
