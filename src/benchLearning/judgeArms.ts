/**
 * The learning benchmark's judge arms: `judge` (every run graded by the project's judge) and
 * `judge+<h>%` (then a share h of the runs reviewed by a human with the true verdict), and the
 * HTTP steps of a judged run: wait for the judge's review to be applied, then the human override.
 */
import type { ReflectHttp, TraceResult } from './client.js';
import { ARMS, type ArmSpec } from './scenarios.js';

const JUDGE_ARM = /^judge\+(\d+(?:\.\d+)?)%$/;

/** `judge+25%` for 0.25 (whole percents stay whole; at most two decimals). */
export function judgeArmName(fraction: number): string {
  return `judge+${Number((fraction * 100).toFixed(2))}%`;
}

/** The spec of a named arm: one of ARMS, or `judge+<h>%` with 0 < h ≤ 100. */
export function armSpec(name: string): ArmSpec | undefined {
  if (ARMS[name]) return ARMS[name];
  const match = JUDGE_ARM.exec(name);
  const percent = match ? Number(match[1]) : NaN;
  if (!(percent > 0 && percent <= 100)) return undefined;
  return {
    ...ARMS.judge!,
    name,
    summary: `as judge, then ${percent}% of the runs (a random share) reviewed by a human with the true verdict`,
    humanFraction: percent / 100,
  };
}

/** `--human-fractions 0.1,0.25`: each a share in (0, 1]; `none`: the judge arm alone. */
export function parseFractions(value: string): number[] {
  if (value.trim() === 'none') return [];
  const fractions = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!fractions.length || fractions.some((h) => !(h > 0 && h <= 1))) throw new Error('--human-fractions: comma-separated shares in (0, 1], e.g. 0.1,0.25,0.5,1, or none');
  return [...new Set(fractions)].sort((a, b) => a - b);
}

/** The arms to run: `judge` brings its `judge+<h>%` arms with it, right after it. */
export function expandArms(names: string[], fractions: number[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    for (const arm of name === 'judge' ? [name, ...fractions.map(judgeArmName)] : [name]) if (!out.includes(arm)) out.push(arm);
  }
  return out;
}

/** Polls a trace until `done` says so; a trace whose judge or processing failed for good throws. */
async function waitUntil(http: ReflectHttp, id: string, what: string, done: (t: TraceResult) => boolean, timeoutMs = 60_000): Promise<TraceResult> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const trace = await http.getTrace(id);
    if (done(trace)) return trace;
    if (trace.ingest_status === 'failed') throw new Error(`trace ${id} failed: ${trace.last_ingest_error?.slice(0, 500)}`);
    if (trace.judge?.status === 'failed' || trace.judge?.status === 'skipped') throw new Error(`trace ${id}: judge ${trace.judge.status}: ${trace.judge.error?.slice(0, 500)}`);
    if (Date.now() > deadline) throw new Error(`trace ${id}: ${what} not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

const settled = (t: TraceResult) => t.ingest_status !== 'queued' && t.ingest_status !== 'processing';

/** Waits until the judge's review of a new trace is applied (reflection, memory, Q-updates). */
export async function judgedReview(http: ReflectHttp, id: string): Promise<{ trace: TraceResult; passed: boolean }> {
  const trace = await waitUntil(http, id, "the judge's review", (t) => t.review_status === 'reviewed' && settled(t));
  if (trace.review?.source !== 'judge') throw new Error(`trace ${id}: reviewed by ${trace.review?.source ?? 'nobody'}, expected the judge`);
  return { trace, passed: trace.review.result === 'pass' };
}

/** A human review with the true verdict over the judge's one, waited for until fully processed. */
export async function humanOverride(http: ReflectHttp, id: string, passed: boolean): Promise<TraceResult> {
  await http.reviewTrace(id, { result: passed ? 'pass' : 'fail', feedback_text: 'Human review: the run ' + (passed ? 'reached its goal.' : 'did not reach its goal.') });
  const trace = await waitUntil(http, id, 'the human override', (t) => t.review?.source === 'human' && t.review_status === 'reviewed' && settled(t));
  if (trace.review!.result !== (passed ? 'pass' : 'fail')) throw new Error(`trace ${id}: the human verdict did not replace the judge's`);
  return trace;
}
