/**
 * Scripting the fake LLM through a reflect loop: each helper is one scripted chat completion.
 * Replies that need ids the server made (memories found by a search) read them from the
 * conversation the server sent, exactly as a real model would.
 */
import type { ChatRequestBody, FakeOpenAI, RecordedRequest, ReplyScript, ScriptedReply } from '../support/fakeOpenAI.js';

export const searchMentalModels = (query = 'the question'): ScriptedReply => ({ toolCalls: [{ name: 'search_mental_models', arguments: { query } }] });
export const searchMemories = (query = 'the question', limit?: number): ScriptedReply => ({
  toolCalls: [{ name: 'search_memories', arguments: { query, ...(limit ? { limit } : {}) } }],
});
export const expandMemory = (memoryId: string): ScriptedReply => ({ toolCalls: [{ name: 'expand_memory', arguments: { memory_id: memoryId } }] });
export const done = (answer: string, memoryIds: string[] = [], extra: Record<string, unknown> = {}): ScriptedReply => ({
  toolCalls: [{ name: 'done', arguments: { answer, memory_ids: memoryIds, ...extra } }],
});

/** Every tool result the server sent back so far, parsed. */
export function toolOutputs(body: ChatRequestBody): Record<string, unknown>[] {
  return (body.messages ?? []).filter((m) => m.role === 'tool').map((m) => JSON.parse(String(m.content)) as Record<string, unknown>);
}

/** Ids of the memories in every search result so far. */
export function foundMemoryIds(body: ChatRequestBody): string[] {
  return toolOutputs(body).flatMap((o) => ((o.memories as { id: string }[] | undefined) ?? []).map((m) => m.id));
}

/** done citing every memory found so far, plus whatever else is given. */
export const doneCitingFound =
  (answer: string, extraIds: string[] = [], extra: Record<string, unknown> = {}): ReplyScript =>
  (body) =>
    done(answer, [...foundMemoryIds(body), ...extraIds], extra);

export function chatRequests(fake: FakeOpenAI, since = 0): (RecordedRequest & { body: ChatRequestBody })[] {
  return fake.requests.slice(since).filter((r) => r.path === '/v1/chat/completions') as (RecordedRequest & { body: ChatRequestBody })[];
}

/** The tool a request forced with tool_choice, or `auto`/undefined. */
export function forcedTool(body: ChatRequestBody): string | undefined {
  const choice = body.tool_choice as { function?: { name: string } } | string | undefined;
  return typeof choice === 'object' ? choice.function?.name : choice;
}
