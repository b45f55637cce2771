import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Reflection, ReflectionInput, Reflector } from './reflection.js';
import { reflectionPrompt } from './reflectionPrompt.js';
import { MalformedReflectionError, ReflectionError, parseReflectionOutput } from './reflectionOutput.js';

export { MalformedReflectionError, ReflectionError } from './reflectionOutput.js';

export interface LlmReflectorOptions {
  /** Built by the caller with `maxRetries: 0` and a timeout: the job queue owns retries. */
  client: OpenAI;
  model: string;
  maxPromptChars: number;
}

/** How much of a bad answer is echoed back when asking again; the model only needs a reminder. */
const MAX_ECHOED_ANSWER_CHARS = 2_000;

/**
 * A reflector that asks a chat model for the lesson. A malformed answer gets one more chance
 * in the same call; HTTP failures are not retried here but classified as ReflectionError.
 */
export function createLlmReflector({ client, model, maxPromptChars }: LlmReflectorOptions): Reflector {
  async function complete(messages: ChatCompletionMessageParam[]): Promise<string> {
    let completion: unknown;
    try {
      completion = await client.chat.completions.create({
        model,
        messages,
        response_format: { type: 'json_object' },
        temperature: 0,
      });
    } catch (error) {
      throw classifyFailure(error, client.apiKey ?? undefined);
    }
    return completionContent(completion, client.apiKey ?? undefined);
  }

  return {
    async reflect(input: ReflectionInput): Promise<Reflection> {
      const { system, user } = reflectionPrompt(input, maxPromptChars);
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ];
      const firstAnswer = await complete(messages);
      try {
        return { ...parseReflectionOutput(firstAnswer), source: 'llm' };
      } catch (error) {
        if (!(error instanceof MalformedReflectionError)) throw error;
        messages.push(
          { role: 'assistant', content: firstAnswer.slice(0, MAX_ECHOED_ANSWER_CHARS) },
          {
            role: 'user',
            content: `That answer could not be used (${error.message}). Reply again with ONLY one JSON object with keys reflection, summary, key_mistake, correct_action, guidance, applicable_tools, tools_used. "reflection" must be a non-empty string; the two tool keys are arrays of strings.`,
          },
        );
      }
      // A second malformed answer throws MalformedReflectionError: retryable, the job tries later.
      return { ...parseReflectionOutput(await complete(messages)), source: 'llm' };
    },
  };
}

/** How much of an unexpected body is quoted in the error: enough to recognise a proxy's page. */
const MAX_QUOTED_BODY_CHARS = 200;

/**
 * The answer's text. A 200 that is not a chat completion (the client hands back a non-JSON body
 * as a string, e.g. a proxy's HTML page) is a gateway in the way, which goes away like a 5xx.
 */
export function completionContent(completion: unknown, apiKey?: string): string {
  const choices = (completion as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) {
    const body = typeof completion === 'string' ? completion : JSON.stringify(completion) ?? String(completion);
    const quoted = redactSecrets(body.replace(/\s+/g, ' ').trim().slice(0, MAX_QUOTED_BODY_CHARS), apiKey);
    throw new ReflectionError(`LLM endpoint answered HTTP 200 with a body that is not a chat completion: ${quoted}`, { retryable: true });
  }
  const first = choices[0] as { message?: { content?: unknown } } | undefined;
  return typeof first?.message?.content === 'string' ? first.message.content : '';
}

/** Turns an openai client failure into a ReflectionError saying whether a later retry can help. */
export function classifyFailure(error: unknown, apiKey?: string): ReflectionError {
  if (error instanceof ReflectionError) return error;
  const clean = (message: string) => redactSecrets(message, apiKey);

  if (error instanceof APIConnectionTimeoutError) {
    return new ReflectionError('LLM request timed out', { retryable: true });
  }
  if (error instanceof APIConnectionError) {
    return new ReflectionError(`LLM connection failed: ${clean(error.message)}`, { retryable: true });
  }
  if (error instanceof APIUserAbortError) {
    // Aborted by us (e.g. shutting down): the run still deserves a reflection later.
    return new ReflectionError('LLM request was aborted', { retryable: true });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const detail = clean(`LLM request failed with HTTP ${status}${error.type ? ` (${error.type})` : ''}: ${error.message}`);
    if (status === 429) {
      const retryAfterMs = retryAfterMsFrom(error.headers);
      return new ReflectionError(detail, { retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    }
    // 408 and 409 are transient too: the openai client itself retries them.
    const retryable = status >= 500 || status === 408 || status === 409;
    return new ReflectionError(detail, { retryable });
  }
  if (error instanceof SyntaxError) {
    // The client parses a body labelled JSON; a proxy's page labelled so is transient as above.
    return new ReflectionError(`LLM endpoint answered with a body that is not JSON: ${clean(error.message)}`, { retryable: true });
  }
  // Anything else is a bug on our side, which a retry will not fix.
  const message = error instanceof Error ? error.message : String(error);
  return new ReflectionError(`LLM reflection failed: ${clean(message)}`, { retryable: false });
}

/** The provider's wait hint: `retry-after-ms`, or `retry-after` as seconds or an HTTP date. */
export function retryAfterMsFrom(headers: Headers | undefined, now = Date.now()): number | undefined {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return Math.round(millis);

  const retryAfter = headers?.get('retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number.parseFloat(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Error text may echo request details back; an API key must never reach logs or job records. */
function redactSecrets(message: string, apiKey?: string): string {
  let clean = message;
  if (apiKey && apiKey.length >= 4) clean = clean.split(apiKey).join('[redacted]');
  return clean.replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, 'sk-[redacted]').replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');
}
