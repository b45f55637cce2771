import type { Message } from '../traces/trajectory.js';

/** What the reflection step is given about one reviewed run. All of it is untrusted data. */
export interface ReflectionInput {
  task: string;
  trajectory: Message[];
  finalResponse: string;
  result: 'pass' | 'fail';
  feedbackText: string | null;
  referenceContext: string | null;
}

/** The lesson of one run, stored on its memory. */
export interface Reflection {
  reflection: string;
  summary: string;
  key_mistake: string;
  correct_action: string;
  guidance: string;
  applicable_tools: string[];
  tools_used: string[];
  /** `llm` when a model wrote it, `template` when built without one. */
  source: 'llm' | 'template';
}

export interface Reflector {
  reflect(input: ReflectionInput): Promise<Reflection>;
}
