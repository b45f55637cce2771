import type { FastifyBaseLogger } from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Scope } from '../auth/apiKeys.js';
import type { AuthService, Principal } from '../auth/service.js';
import type { ProjectRow } from '../db/schema.js';
import { ApiError, ValidationError } from '../http/errors.js';
import { inputIssues } from '../http/inputRules.js';
import { issuesOf } from '../http/validator.js';
import { memory, queryMemoriesBody } from '../memories/models.js';
import { toMemoryWire, type MemoryService } from '../memories/service.js';
import { createTraceBody, traceSubmission } from '../traces/models.js';
import type { TraceService } from '../traces/service.js';

export interface McpServices {
  auth: AuthService;
  memories: MemoryService;
  traces: TraceService;
  log: FastifyBaseLogger;
}

/** Who the tools act for: resolved by the auth hook exactly as for a REST request. */
export interface McpCaller {
  principal: Principal;
  project: ProjectRow;
}

/** Most memories one retrieval returns: they go into a model's context, so fewer than REST's 100. */
export const MCP_RETRIEVE_LIMIT = 20;

/** Most JSON-RPC messages one POST may batch: each tool call may write, and the rate limit counts requests. */
export const MCP_MAX_BATCH = 20;

// What the agent sees. Each call is then parsed with the REST body schema, so the REST rules
// (lengths, blank strings, defaults such as mmr_lambda) apply unchanged.
// λ's default is the server's (REFLECT_DEFAULT_LAMBDA); no similarity_threshold, so the relevance gate applies as for REST.
const retrieveMemoriesInput = (defaultLambda: number) => ({
  query: z.string().min(1).describe('The task at hand; memories of similar past tasks are returned'),
  limit: z.number().int().min(1).max(MCP_RETRIEVE_LIMIT).default(5).describe(`How many memories, 1..${MCP_RETRIEVE_LIMIT}`),
  lambda_: z.number().min(0).max(1).default(defaultLambda).describe('Blend: 0 = pure similarity, 1 = pure Q-value (learned usefulness)'),
});

// The trajectory message is spelled out rather than reusing the REST `Message` schema: that one
// carries an OpenAPI id, which would put a `$ref` in the input schema, and clients hand input
// schemas to LLM function-calling APIs, several of which reject or ignore `$ref`s.
const trajectoryMessage = z.looseObject({ role: z.string().min(1) });

const createMemoryInput = {
  task: z.string().min(1).describe('What the agent was asked to do'),
  final_response: z.string().describe("The agent's final answer"),
  trajectory: z
    .union([z.string(), z.array(trajectoryMessage)])
    .describe('The run: a list of chat messages ({role, content, ...}), a JSON string of such a list, or plain text'),
  result: z.enum(['pass', 'fail']).describe('Whether the run succeeded'),
  feedback_text: z.string().optional().describe('Why it passed or failed; the reflection learns from it'),
  retrieved_memory_ids: z
    .array(z.uuid())
    .optional()
    .describe('Ids of the memories retrieve_memories returned for this run; their Q-values learn from the result'),
  metadata: z.record(z.string(), z.unknown()).optional().describe('Free-form labels kept on the trace and the memory'),
};

/**
 * An MCP server for one request: stateless, so the caller and project are fixed at construction
 * and each tool checks its own scope (the route only requires a valid key). Tools run the same
 * service calls as their REST twins: retrieve_memories = POST /v1/memories/query,
 * create_memory = POST /v1/traces with the review included, so the learning loop makes the memory.
 */
export function createMcpServer(services: McpServices, caller: McpCaller): McpServer {
  const server = new McpServer({ name: 'reflect-server', version: '0.1.0' });

  /**
   * Runs a tool body after its scope check and the input rules REST applies to every request
   * (no NUL, no unpaired surrogate, bounded lists and nesting: see http/inputRules.ts);
   * failures become tool errors in the REST error shape, naming the argument.
   */
  async function runWithScope(scope: Scope, input: unknown, body: () => Promise<CallToolResult>): Promise<CallToolResult> {
    try {
      services.auth.requireScope(caller.principal, scope);
      const broken = inputIssues(input, ['arguments']);
      if (broken.length > 0) throw new ValidationError(broken);
      return await body();
    } catch (error) {
      return toolError(error, services.log);
    }
  }

  server.registerTool(
    'retrieve_memories',
    {
      title: 'Retrieve memories',
      description:
        'Lessons learned from past runs of similar tasks, best first (ranked by similarity blended with learned usefulness). ' +
        'Call before starting a task; pass the returned ids to create_memory afterwards.',
      inputSchema: retrieveMemoriesInput(services.memories.retrieval.lambda),
      outputSchema: { memories: z.array(memory) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (input) =>
      runWithScope('memories:read', input, async () => {
        const { query, limit, lambda_ } = input;
        const body = queryMemoriesBody.parse({ task: query, limit, lambda_ });
        const ranked = await services.memories.query(caller.project, body);
        const memories = ranked.map((m) => toMemoryWire(m.row, m));
        return { content: [{ type: 'text', text: JSON.stringify(memories) }], structuredContent: { memories } };
      }),
  );

  server.registerTool(
    'create_memory',
    {
      title: 'Record a run and learn from it',
      description:
        'Record a finished run with its outcome. A reflection on it is written in the background and stored as a new memory; ' +
        'the memories listed in retrieved_memory_ids gain or lose usefulness according to the result.',
      inputSchema: createMemoryInput,
      outputSchema: traceSubmission.shape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input) =>
      runWithScope('traces:write', input, async () => {
        const body = createTraceBody.parse({
          task: input.task,
          trajectory: input.trajectory,
          final_response: input.final_response,
          retrieved_memory_ids: input.retrieved_memory_ids,
          metadata: input.metadata,
          review_result: input.result,
          feedback_text: input.feedback_text,
        });
        const row = await services.traces.create(caller.project, body, caller.principal.keyRowId);
        const submission = { id: row.id, trace_id: row.id, ingest_status: row.ingestStatus as 'queued' | 'completed' };
        return { content: [{ type: 'text', text: JSON.stringify(submission) }], structuredContent: submission };
      }),
  );

  return server;
}

/** The body REST would have answered with, as the text of a tool error; internals stay in the log. */
function toolError(error: unknown, log: FastifyBaseLogger): CallToolResult {
  let body: { detail: unknown; code: string };
  if (error instanceof ApiError) {
    body = { detail: error.detail, code: error.code };
  } else if (error instanceof ValidationError) {
    body = { detail: error.issues, code: 'validation_error' };
  } else if (error instanceof z.ZodError) {
    body = { detail: issuesOf(error.issues, ['arguments']), code: 'validation_error' };
  } else {
    log.error({ err: error }, 'MCP tool failed');
    body = { detail: 'Internal server error', code: 'internal_error' };
  }
  return { content: [{ type: 'text', text: JSON.stringify(body) }], isError: true };
}
