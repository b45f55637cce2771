import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { StartupError } from '../../startupError.js';
import { lockDataDir, PID_FILE, type DataDirLock } from './dataDirLock.js';
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
 * A data folder is owned by one process at a time (see dataDirLock.ts): this throws
 * DataDirInUseError when another live process owns it. `command` names this process to others.
 */
export async function startEmbeddedEngine(dataDir: string, settings: string[], command = 'serve'): Promise<EmbeddedEngine> {
  const inMemory = dataDir.startsWith('memory://');
  const folder = inMemory ? dataDir : path.resolve(dataDir);
  const lock = inMemory ? undefined : await lockDataDir(prepareDataFolder(folder), command);
  try {
    if (!inMemory) refuseForeignFolder(folder);
    return await startLocked(folder, inMemory, settings, lock);
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

async function startLocked(folder: string, inMemory: boolean, settings: string[], lock: DataDirLock | undefined): Promise<EmbeddedEngine> {
  const socketPath = inMemory ? undefined : unixSocketPath(folder);
  // A socket file left by a crashed owner would make listen() fail; this process owns the folder now.
  if (socketPath && existsSync(socketPath)) rmSync(socketPath);

  const data: EngineThreadData = { dataDir: folder, socketPath, settings };
  const thread = new Worker(THREAD_SCRIPT, { workerData: data });
  let closing = false;
  const address = await new Promise<string>((resolve, reject) => {
    thread.once('message', (message: FromEngineThread) => {
      if (message.type === 'ready') resolve(message.address);
      else reject(notStarted(folder, message.type === 'failed' ? message.message : message.type));
    });
    thread.once('error', (error) => reject(notStarted(folder, error.message)));
    thread.once('exit', (code) => reject(notStarted(folder, `its thread exited with code ${code}`)));
  });
  thread.on('exit', (code) => {
    // Nothing can be served without the database: fail loudly rather than answer 500s forever.
    if (!closing) throw new Error(`the embedded database thread stopped unexpectedly (exit code ${code})`);
  });

  const { host, port } = socketPath ? { host: path.dirname(socketPath), port: 5432 } : hostPort(address);
  lock?.publish({ host, port });
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
        await lock?.release();
      }
    },
  };
}

/** Files a folder may hold and still count as empty: hidden ones (.gitkeep) and our pid file. */
const isIncidental = (name: string) => name.startsWith('.') || name === PID_FILE;

const FIX_DATA_DIR = 'point REFLECT_DATA_DIR to a new or empty folder, or to an existing reflect-server data folder';

/** The folder, created if missing. */
function prepareDataFolder(folder: string): string {
  const fix = FIX_DATA_DIR;
  if (existsSync(folder) && !statSync(folder).isDirectory()) throw new StartupError('REFLECT_DATA_DIR', `${folder} is a file, not a folder; ${fix}`);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new StartupError('REFLECT_DATA_DIR', `cannot create ${folder} (${(error as NodeJS.ErrnoException).code}); ${fix}`);
  }
  return folder;
}

/**
 * PGlite would initialise a database inside any folder: one that holds other files and no
 * database (PG_VERSION) is refused rather than filled. Checked under the lock, so an owner's
 * half-initialised folder is never mistaken for a foreign one.
 */
function refuseForeignFolder(folder: string): void {
  const entries = readdirSync(folder);
  if (!entries.includes('PG_VERSION') && entries.some((name) => !isIncidental(name))) {
    throw new StartupError('REFLECT_DATA_DIR', `${folder} holds other files and no reflect-server database (no PG_VERSION); ${FIX_DATA_DIR}`);
  }
}

function notStarted(folder: string, reason: string): Error {
  if (folder.startsWith('memory://')) return new Error(`the embedded database could not start: ${reason}`);
  return new StartupError(
    'REFLECT_DATA_DIR',
    `the embedded database in ${folder} could not start (${reason.replace(/\s+/g, ' ').trim()}); check that the folder is a reflect-server data folder this user can write, or point REFLECT_DATA_DIR elsewhere`,
  );
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
