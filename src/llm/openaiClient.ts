import OpenAI from 'openai';
import type { Config } from '../config.js';

/**
 * The real `openai` client against any OpenAI-compatible URL, or none without a key. No retries
 * inside the client: the job queue retries with backoff and counts each attempt on the trace.
 */
export function createOpenAIClient(llm: Config['llm']): OpenAI | undefined {
  if (!llm.apiKey) return undefined;
  return new OpenAI({ apiKey: llm.apiKey, baseURL: llm.baseUrl, timeout: llm.timeoutMs, maxRetries: 0 });
}
