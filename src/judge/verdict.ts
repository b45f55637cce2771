import { z } from 'zod';
import { extractJson, preview, ReflectionError } from '../learning/reflectionOutput.js';
import { storableStrings } from '../llm/storableText.js';

/** The model answered, but not with a usable verdict. A later attempt may do better. */
export class MalformedVerdictError extends ReflectionError {
  constructor(message: string) {
    super(message, { retryable: true });
    this.name = 'MalformedVerdictError';
  }
}

/** Stored as the review's feedback; a reason longer than this is cut. */
const MAX_REASON_CHARS = 2_000;

/** The fixed shape the judge answers in: {"verdict": "pass" | "fail", "reason": "..."}. */
export const verdictSchema = z.object({
  verdict: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(['pass', 'fail'])),
  reason: z.preprocess(
    (v) => (v == null ? '' : v),
    z.string().transform((s) => s.trim().slice(0, MAX_REASON_CHARS)),
  ),
});
export type Verdict = z.infer<typeof verdictSchema>;

/** Reads the model's answer (code fences and surrounding prose tolerated); throws MalformedVerdictError. */
export function parseVerdict(output: string): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(extractJson(output), storableStrings);
  } catch {
    throw new MalformedVerdictError(`The judge's answer is not JSON: ${preview(output)}`);
  }
  const parsed = verdictSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.message}`).join('; ');
    throw new MalformedVerdictError(`The judge's answer is not a verdict: ${problems}`);
  }
  return parsed.data;
}
