/**
 * The server as a separate process, for tests that must kill it: `node --import tsx <entry>`
 * (one process, no tsx wrapper, so SIGKILL hits the server itself), in its own process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How a server process ended: an exit code, or the signal that killed it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` once it listens. */
  readonly baseUrl: string;
  /** The key printed on the embedded engine's first start, if it printed one. */
  readonly firstKey: string | undefined;
  output(): string;
  /** SIGKILL to its process group: no cleanup of any kind, as in a crash. */
  kill(): Promise<Exit>;
  /** SIGTERM and wait (SIGKILL after `graceMs`); resolves with how it ended. */
  stop(graceMs?: number): Promise<Exit>;
}

const running = new Set<ChildProcess>();

/** Starts `args` (e.g. ['src/server.ts'] or ['bin/reflect-server.mjs', 'worker']) and waits until it listens. */
export async function startServerProcess(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : []), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(() => running.delete(child));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms:\n${output.slice(-3000)}`)), timeoutMs);
    const check = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${child.exitCode ?? child.signalCode}:\n${output.slice(-3000)}`));
    });
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // Already gone.
      }
    }
  };
  return {
    pid: child.pid!,
    baseUrl,
    get firstKey() {
      return /REFLECT_API_KEY=(\S+)/.exec(output)?.[1];
    },
    output: () => output,
    async kill() {
      await signal('SIGKILL');
      return exited;
    },
    async stop(graceMs = 10_000) {
      await signal('SIGTERM');
      const timer = setTimeout(() => void signal('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

/** Kills whatever a failed test left running (only processes this module started). */
export async function killAllServerProcesses(): Promise<void> {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** fetch against a server process with a key; JSON in and out. */
export async function http(
  server: ServerProcess,
  key: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.baseUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
