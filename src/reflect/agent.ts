import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { DirectiveRow } from '../db/schema.js';
import { llmFailure, notACompletion, reflectTimedOut, toolsUnsupported } from './errors.js';
import { responseSchemaValidator } from './models.js';
import { agentSystemPrompt, DONE_TOO_EARLY, finalSystemPrompt, finalUserMessage, questionMessage } from './prompts.js';
import { TOOL_NAMES, toolDefinitions, type Evidence, type ToolExecutors, type ToolOutput } from './tools.js';

export interface AgentInput {
  client: OpenAI;
  model: string;
  query: string;
  context?: string | null;
  /** Tool turns before the answer must come without tools (the budget). */
  toolTurns: number;
  maxTokens: number;
  responseSchema: Record<string, unknown> | null;
  directives: Pick<DirectiveRow, 'name' | 'content'>[];
  /** Whether mental models are searched (some exist and the request did not exclude them). */
  mentalModels: boolean;
  executors: ToolExecutors;
  evidence: Evidence;
  /** The request's wall-clock limit (Date.now() ms) and its length, for the 504's message. */
  deadline: number;
  timeoutMs: number;
}

export interface ToolCallRecord {
  tool: string;
  input: Record<string, unknown>;
  output: ToolOutput;
  duration_ms: number;
  iteration: number;
}

export interface AgentResult {
  answer: string;
  structuredOutput: Record<string, unknown> | null;
  /** What done cited, filtered to ids the tools returned; null when the answer came without done. */
  cited: { memoryIds: string[]; mentalModelIds: string[] } | null;
  usage: { input: number; output: number };
  toolCalls: ToolCallRecord[];
  llmCalls: { scope: string; duration_ms: number }[];
}

const doneArgs = z.object({
  answer: z.string().default(''),
  memory_ids: z.array(z.string()).default([]),
  mental_model_ids: z.array(z.string()).default([]),
  structured_output: z.unknown().optional(),
});

const ms = (since: number) => Math.round((performance.now() - since) * 10) / 10;

function parseArguments(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The value if it is an object valid per the caller's schema; extraction that fails is null, not an error. */
function structuredPerSchema(schema: Record<string, unknown>, value: unknown): Record<string, unknown> | null {
  if (typeof value === 'string') value = parseArguments(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const valid = responseSchemaValidator(schema).safeParse(value);
  return valid.success ? (value as Record<string, unknown>) : null;
}

/**
 * The reflect loop. The first turns are steered (mental models, then memories) so every answer
 * starts from the bank; after that the model chooses until it calls done or the budget's tool
 * turns run out, and then one last call answers from the evidence without tools. With mental
 * models, an answer found by the first memory search costs three LLM calls.
 */
export async function runReflectAgent(input: AgentInput): Promise<AgentResult> {
  const { client, evidence, executors } = input;
  const timedOut = () => Date.now() >= input.deadline;
  const usage = { input: 0, output: 0 };
  const toolCalls: ToolCallRecord[] = [];
  const llmCalls: AgentResult['llmCalls'] = [];
  const tools = toolDefinitions({ mentalModels: input.mentalModels, responseSchema: input.responseSchema });
  const steered = [...(input.mentalModels ? [TOOL_NAMES.searchMentalModels] : []), TOOL_NAMES.searchMemories];

  async function complete(scope: string, params: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>): Promise<ChatCompletion> {
    if (timedOut()) throw reflectTimedOut(input.timeoutMs);
    const started = performance.now();
    try {
      // A signal of its own per call: the client adds a listener to it and never removes it.
      const signal = AbortSignal.timeout(input.deadline - Date.now());
      const completion = await client.chat.completions.create({ model: input.model, ...params }, { signal });
      // A 200 that is not a completion (a proxy's HTML page comes back as a string) is the endpoint's fault.
      if (!Array.isArray((completion as { choices?: unknown }).choices)) throw notACompletion();
      usage.input += completion.usage?.prompt_tokens ?? 0;
      usage.output += completion.usage?.completion_tokens ?? 0;
      return completion;
    } catch (error) {
      throw timedOut() ? reflectTimedOut(input.timeoutMs) : llmFailure(error, client.apiKey ?? undefined);
    } finally {
      llmCalls.push({ scope, duration_ms: ms(started) });
    }
  }

  const messages: ChatCompletionMessageParam[] = [
    {
      role: 'system',
      content: agentSystemPrompt({
        directives: input.directives,
        mentalModels: input.mentalModels,
        structured: input.responseSchema !== null,
        maxTokens: input.maxTokens,
      }),
    },
    { role: 'user', content: questionMessage(input.query, input.context) },
  ];
  // Evidence counts from the turn after a search: a done in the same turn has not seen its results.
  let searched = false;

  /** The answer of an accepted done, citations cut down to ids the tools returned. */
  function finish(args: Record<string, unknown> | undefined): Pick<AgentResult, 'answer' | 'structuredOutput' | 'cited'> | { error: string } {
    const done = doneArgs.safeParse(args ?? {});
    if (!done.success || (!input.responseSchema && !done.data.answer.trim())) {
      return { error: 'done needs a non-empty "answer" (string) and "memory_ids" (list of ids).' };
    }
    return {
      answer: done.data.answer.trim(),
      structuredOutput: input.responseSchema ? structuredPerSchema(input.responseSchema, done.data.structured_output) : null,
      cited: {
        memoryIds: [...new Set(done.data.memory_ids)].filter((id) => evidence.memories.has(id)),
        mentalModelIds: [...new Set(done.data.mental_model_ids)].filter((id) => evidence.mentalModels.has(id)),
      },
    };
  }

  for (let turn = 1; turn <= input.toolTurns; turn++) {
    const forced = steered[turn - 1];
    const toolChoice: ChatCompletionToolChoiceOption = forced ? { type: 'function', function: { name: forced } } : 'auto';
    const completion = await complete(`agent_${turn}`, {
      messages,
      tools,
      tool_choice: toolChoice,
      // A steered turn only searches; any other turn may write the answer, which max_tokens bounds.
      ...(forced ? {} : { max_tokens: input.maxTokens }),
    });
    const message = completion.choices[0]?.message;
    const calls = (message?.tool_calls ?? []).filter((c): c is ChatCompletionMessageFunctionToolCall => c.type === 'function');
    if (calls.length === 0) {
      if (forced) throw toolsUnsupported();
      const text = message?.content?.trim() ?? '';
      // An answer in plain text after searching is an answer, with nothing cited.
      if (text && searched && !input.responseSchema) return { answer: text, structuredOutput: null, cited: null, usage, toolCalls, llmCalls };
      messages.push({ role: 'assistant', content: message?.content ?? '' }, { role: 'user', content: 'Use the tools: search, then call done.' });
      continue;
    }

    messages.push({ role: 'assistant', content: message?.content ?? null, tool_calls: calls });
    const searchedBefore = searched;
    for (const call of calls) {
      const args = parseArguments(call.function.arguments);
      const started = performance.now();
      let output: ToolOutput;
      if (call.function.name === TOOL_NAMES.done) {
        const finished = searchedBefore ? finish(args) : { error: DONE_TOO_EARLY };
        if (!('error' in finished)) {
          toolCalls.push({ tool: TOOL_NAMES.done, input: args ?? {}, output: { accepted: true }, duration_ms: ms(started), iteration: turn });
          return { ...finished, usage, toolCalls, llmCalls };
        }
        output = finished;
      } else if (!args) {
        output = { error: 'The arguments must be one JSON object.' };
      } else {
        // Own properties only: a model calling "constructor" must not reach Object's.
        const execute = Object.hasOwn(executors, call.function.name) ? executors[call.function.name as keyof ToolExecutors] : undefined;
        output = execute ? await execute(args) : { error: `Unknown tool ${call.function.name}` };
        if (execute && !('error' in output)) {
          if (call.function.name !== TOOL_NAMES.expandMemory) searched = true;
          evidence.outputs.push({ tool: call.function.name, input: args, output });
        }
      }
      toolCalls.push({ tool: call.function.name, input: args ?? {}, output, duration_ms: ms(started), iteration: turn });
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(output) });
      if (timedOut()) throw reflectTimedOut(input.timeoutMs);
    }
  }

  // The tool turns are used up: answer from what was found, without tools.
  const structured = input.responseSchema !== null;
  const completion = await complete('final', {
    messages: [
      { role: 'system', content: finalSystemPrompt(input.directives, structured) },
      { role: 'user', content: finalUserMessage(input.query, input.context, evidence.outputs) },
    ],
    max_tokens: input.maxTokens,
    ...(structured ? { response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: input.responseSchema! } } } : {}),
  });
  const content = completion.choices[0]?.message?.content?.trim() ?? '';
  return {
    answer: structured ? '' : content,
    structuredOutput: structured ? structuredPerSchema(input.responseSchema!, content) : null,
    cited: null,
    usage,
    toolCalls,
    llmCalls,
  };
}
