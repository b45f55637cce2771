import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** The local tsx binary: what `npx tsx` runs, without npx's own start-up. */
export const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
/**
 * The same sources through tsx's loader inside one node process. The tsx CLI runs the script in a
 * child and relays SIGTERM with a 30 ms handshake, SIGKILLing it when a busy machine answers late;
 * a test of graceful shutdown needs the signal to reach the server itself.
 */
export const NODE_TSX = [process.execPath, '--import', 'tsx'] as const;

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Ends the children this test file started that are still running (a failed or timed-out test). */
export function stopAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Child processes and on-disk databases are slow on a busy machine: tests that use them get this long. */
export const SLOW_MS = 180_000;

/** A child with a clean, test-quiet environment plus `env`; its output is collected as it comes. */
export function start(command: string, args: string[], env: Record<string, string>) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(REFLECT_|DATABASE_URL|REDIS_URL|OPENAI_|PORT$|HOST$|NODE_ENV$)/.test(k)));
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { cwd: ROOT, env: { ...base, LOG_LEVEL: 'warn', ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  running.add(child);
  const exited = new Promise<Finished>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, ...out });
    }),
  );
  return { child, out, exited };
}

/** Runs to the end. */
export function run(command: string, args: string[], env: Record<string, string>): Promise<Finished> {
  return start(command, args, env).exited;
}
