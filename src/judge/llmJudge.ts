import type OpenAI from 'openai';
import { classifyFailure, completionContent } from '../learning/llmReflector.js';
import { judgePrompt, type JudgeInput } from './judgePrompt.js';
import { parseVerdict, type Verdict } from './verdict.js';

export interface Judge {
  /** One chat completion; failures are ReflectionErrors saying whether a later attempt can help. */
  judge(input: JudgeInput, model: string): Promise<Verdict>;
}

/**
 * The judge as one call to a chat model. No retry here: the job queue owns retries (as for
 * reflections), so every attempt is one call in the LLM usage log.
 */
export function createLlmJudge({ client, maxPromptChars }: { client: OpenAI; maxPromptChars: number }): Judge {
  return {
    async judge(input, model) {
      const { system, user } = judgePrompt(input, maxPromptChars);
      let completion: unknown;
      try {
        completion = await client.chat.completions.create({
          model,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
          response_format: { type: 'json_object' },
          temperature: 0,
        });
      } catch (error) {
        throw classifyFailure(error, client.apiKey ?? undefined);
      }
      return parseVerdict(completionContent(completion, client.apiKey ?? undefined));
    },
  };
}
