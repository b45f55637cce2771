import { z } from 'zod';
import type { Reflection } from './reflection.js';
import { storableStrings } from '../llm/storableText.js';

/**
 * Why a reflection could not be made. `retryable` tells the job queue whether trying again
 * later can help; `retryAfterMs` is the provider's own hint for when.
 */
export class ReflectionError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number }) {
    super(message);
    this.name = 'ReflectionError';
    this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The model answered, but not with a usable reflection JSON. A new attempt may do better. */
export class MalformedReflectionError extends ReflectionError {
  constructor(message: string) {
    super(message, { retryable: true });
    this.name = 'MalformedReflectionError';
  }
}

// Models often send null or leave out fields that do not apply (no key mistake on a pass).
const text = z.preprocess((value) => (value == null ? '' : value), z.string().trim());

const toolList = z.preprocess(
  (value) => (value == null ? [] : typeof value === 'string' ? [value] : value),
  z.array(z.string().trim()).transform((names) => [...new Set(names.filter((name) => name.length > 0))]),
);

export const reflectionOutputSchema = z.object({
  reflection: z.string().trim().min(1, 'reflection must be a non-empty string'),
  summary: text,
  key_mistake: text,
  correct_action: text,
  guidance: text,
  applicable_tools: toolList,
  tools_used: toolList,
});

/** Reads the model's answer into a reflection; throws MalformedReflectionError if it is not one. */
export function parseReflectionOutput(output: string): Omit<Reflection, 'source'> {
  const json = extractJson(output);
  let value: unknown;
  try {
    value = JSON.parse(json, storableStrings);
  } catch {
    throw new MalformedReflectionError(`The answer is not JSON: ${preview(output)}`);
  }
  const parsed = reflectionOutputSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.message}`)
      .join('; ');
    throw new MalformedReflectionError(`The answer is not a valid reflection: ${problems}`);
  }
  return parsed.data;
}

/** The JSON inside a ```json fence, or from the first `{` to the last `}` if prose surrounds it. */
export function extractJson(output: string): string {
  const fenced = /```(?:json)?\s*\n?([\s\S]*?)```/i.exec(output);
  const candidate = (fenced?.[1] ?? output).trim();
  if (candidate.startsWith('{')) return candidate;
  const start = candidate.indexOf('{');
  const end = candidate.lastIndexOf('}');
  return start >= 0 && end > start ? candidate.slice(start, end + 1) : candidate;
}

export function preview(output: string): string {
  const flat = output.replace(/\s+/g, ' ').trim();
  if (flat.length === 0) return '(empty answer)';
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat);
}
