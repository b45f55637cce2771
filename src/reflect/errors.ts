import { APIConnectionTimeoutError, APIError } from 'openai';
import { ApiError } from '../http/errors.js';
import { classifyFailure, retryAfterMsFrom } from '../learning/llmReflector.js';

/**
 * A reflect runs while its caller waits, so an LLM failure becomes the answer's status rather
 * than a retry: the provider's 429 is passed on with its wait hint, a timeout is a 504, and
 * everything else is a 500 whose message is cleaned of secrets.
 */

export const llmNotConfigured = () =>
  new ApiError(400, 'llm_not_configured', 'Reflect needs an LLM: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server)');

export const reflectTimedOut = (timeoutMs: number) =>
  new ApiError(504, 'reflect_timeout', `Reflect did not finish within ${timeoutMs} ms (REFLECT_REFLECT_TIMEOUT_MS)`);

export const toolsUnsupported = () =>
  new ApiError(
    500,
    'llm_tools_unsupported',
    'The configured LLM did not call a tool when one was required: reflect needs a model and server with OpenAI-style tool calling',
  );

export const notACompletion = () =>
  new ApiError(502, 'llm_bad_response', 'The LLM endpoint answered 200 with a body that is not a chat completion (a proxy page?): check OPENAI_BASE_URL');

export function llmFailure(error: unknown, apiKey: string | undefined): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof APIConnectionTimeoutError) {
    return new ApiError(504, 'llm_timeout', 'An LLM call did not answer in time (REFLECT_LLM_TIMEOUT_MS)');
  }
  if (error instanceof APIError && error.status === 429) {
    const waitMs = retryAfterMsFrom(error.headers);
    return new ApiError(
      429,
      'llm_rate_limited',
      'The LLM provider is rate limiting this server; retry later',
      waitMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
    );
  }
  return new ApiError(500, 'llm_error', classifyFailure(error, apiKey).message);
}
