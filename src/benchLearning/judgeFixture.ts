/**
 * The learning benchmark's simulated LLM judge. The server's judge sends the trace and the
 * project's rubric to the fixture endpoint; the rubric carries the judge's error rate and the
 * simulated agent writes the run's true outcome into its final response and last message (an
 * outcome marker). The fixture reads both and answers the true outcome, flipped for a share
 * `error` of the runs. Which runs are flipped is a hash of the marker's key (seed and episode),
 * so every arm of a seed has the judge err on the same episodes, with no state shared between
 * the benchmark and the endpoint. The markers never reach what the server embeds (the task) nor
 * the fixture's lessons (written from the task and the outcome only).
 */
import { createHash } from 'node:crypto';

const RUBRIC_TAG = /⟨bench-judge error=([0-9.]+)⟩/;
const OUTCOME_MARKER = /⟨run-outcome (pass|fail) key=([\w.-]+)⟩/;

/** The rubric the benchmark gives the project's judge: its error rate, then the instruction. */
export function judgeRubric(error: number): string {
  if (!(error >= 0 && error <= 1)) throw new Error('judge error rate must be within 0…1');
  return `⟨bench-judge error=${error}⟩ Pass when the run reached its goal, as the outcome marker in its final response says; fail otherwise.`;
}

/** What the simulated agent writes into its final response: the true outcome and the run's key. */
export function outcomeMarker(success: boolean, key: string): string {
  if (!/^[\w.-]+$/.test(key)) throw new Error(`outcome marker key "${key}": letters, digits, _ . - only`);
  return `⟨run-outcome ${success ? 'pass' : 'fail'} key=${key}⟩`;
}

/** A uniform draw in [0, 1) fixed by the key: the same run gets the same judge error in every arm. */
export function keyedDraw(key: string): number {
  return createHash('sha256').update(`judge|${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** Whether the fixture judge mis-grades the run with this key at this error rate. */
export function judgeErrs(key: string, error: number): boolean {
  return keyedDraw(key) < error;
}

export interface FixtureVerdict {
  verdict: 'pass' | 'fail';
  reason: string;
  /** True when the verdict is the flipped one (for the fixture's own tests; the server never sees it). */
  erred: boolean;
}

/**
 * The judge's answer to a chat request whose messages carry the bench rubric and an outcome
 * marker; undefined for any other request (reflections, merges), which get a lesson instead.
 */
export function fixtureJudgeVerdict(messageTexts: string[]): FixtureVerdict | undefined {
  const all = messageTexts.join('\n');
  const rubric = RUBRIC_TAG.exec(all);
  if (!rubric) return undefined;
  const marker = OUTCOME_MARKER.exec(all);
  if (!marker) return undefined;
  const truth = marker[1] as 'pass' | 'fail';
  const erred = judgeErrs(marker[2]!, Number(rubric[1]));
  const verdict = erred ? (truth === 'pass' ? 'fail' : 'pass') : truth;
  return { verdict, reason: `Graded ${verdict} against the rubric.`, erred };
}
