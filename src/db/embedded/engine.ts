import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineThreadData, FromEngineThread } from './protocol.js';

export interface EmbeddedEngine {
  /** The loopback address, or the Unix socket's folder (PostgreSQL's convention, port 5432). */
  host: string;
  port: number;
  /** A URL other local processes can use to reach the same database. */
  url: string;
  close(): Promise<void>;
}

const THREAD_SCRIPT = new URL('./engineThread.mjs', import.meta.url);

/**
 * Starts PGlite on its own thread, served over the PostgreSQL wire protocol on a socket only
 * this process opens (a Unix socket beside the data, or loopback TCP for in-memory engines).
 */
export async function startEmbeddedEngine(dataDir: string, settings: string[]): Promise<EmbeddedEngine> {
  const inMemory = dataDir.startsWith('memory://');
  const folder = inMemory ? dataDir : path.resolve(dataDir);
  if (!inMemory) mkdirSync(folder, { recursive: true });
  const socketPath = inMemory ? undefined : unixSocketPath(folder);
  // A socket file left by a crashed process would make listen() fail.
  if (socketPath && existsSync(socketPath)) rmSync(socketPath);

  const data: EngineThreadData = { dataDir: folder, socketPath, settings };
  const thread = new Worker(THREAD_SCRIPT, { workerData: data });
  let closing = false;
  const address = await new Promise<string>((resolve, reject) => {
    thread.once('message', (message: FromEngineThread) => {
      if (message.type === 'ready') resolve(message.address);
      else reject(new Error(`the embedded database could not start: ${message.type === 'failed' ? message.message : message.type}`));
    });
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the embedded database thread exited with code ${code} while starting`)));
  });
  thread.on('exit', (code) => {
    // Nothing can be served without the database: fail loudly rather than answer 500s forever.
    if (!closing) throw new Error(`the embedded database thread stopped unexpectedly (exit code ${code})`);
  });

  const { host, port } = socketPath ? { host: path.dirname(socketPath), port: 5432 } : hostPort(address);
  return {
    host,
    port,
    url: socketPath ? `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(host)}` : `postgresql://postgres@${address}/postgres`,
    async close() {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve, reject) => {
        thread.on('message', (message: FromEngineThread) => {
          if (message.type === 'closed') resolve();
          if (message.type === 'failed') reject(new Error(`the embedded database did not close cleanly: ${message.message}`));
        });
        thread.once('exit', () => resolve());
      });
      thread.postMessage({ type: 'close' });
      try {
        await closed;
      } finally {
        await thread.terminate();
      }
    },
  };
}

/** A Unix socket beside the data (only this user can reach it), or none when the path is too long. */
function unixSocketPath(dataDir: string): string | undefined {
  const socketPath = path.join(dataDir, '.s.PGSQL.5432');
  return socketPath.length < 100 ? socketPath : undefined;
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}
