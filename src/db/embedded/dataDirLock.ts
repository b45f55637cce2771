import { createHash } from 'node:crypto';
import { lstatSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where the owner's engine listens: a Unix socket's folder (port 5432) or loopback TCP. */
export interface EngineAddress {
  host: string;
  port: number;
}

/** What the owner of a data folder answers on its lock socket. */
export interface DataDirOwner {
  pid: number;
  /** What the owner runs, e.g. `serve` or `keys create`. */
  command: string;
  /** Null while its engine is still starting. */
  engine: EngineAddress | null;
}

/** Another live process owns the data folder. */
export class DataDirInUseError extends Error {
  constructor(
    readonly folder: string,
    readonly owner: DataDirOwner | undefined,
  ) {
    super(`${folder} is in use by another reflect-server process${owner ? ` (pid ${owner.pid}, ${owner.command})` : ''}`);
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  /** Tells processes that ask where this owner's engine listens (the CLI connects there). */
  publish(engine: EngineAddress): void;
  release(): Promise<void>;
}

/** The pid file beside the data, for people; the lock socket is what decides. */
export const PID_FILE = 'reflect-server.pid';
const LOCK_SOCKET = '.s.reflect.lock';
/** How long a connected owner has to say who it is (its event loop may be busy). */
const ANSWER_MS = 3_000;

/**
 * One process owns a data folder: it listens on a Unix socket in the folder. Binding a socket
 * path is atomic, so two starters cannot both win; the kernel closes it when the process dies,
 * so a crash leaves a file that refuses connections, which the next starter removes. (Node has
 * no flock, and a pid file alone can name a reused pid.) The owner answers each connection with
 * its pid, command and engine address.
 */
export async function lockDataDir(folder: string, command: string): Promise<DataDirLock> {
  const socketPath = lockSocketPath(folder);
  const state: DataDirOwner = { pid: process.pid, command, engine: null };
  const server = net.createServer((connection) => {
    connection.on('error', () => {});
    connection.end(`${JSON.stringify(state)}\n`);
  });
  server.on('error', () => {});
  server.unref();

  for (let attempt = 0; attempt < 5; attempt++) {
    if (await listen(server, socketPath)) {
      writeFileSync(path.join(folder, PID_FILE), `${process.pid}\n`);
      return {
        publish(engine) {
          state.engine = engine;
        },
        async release() {
          rmSync(path.join(folder, PID_FILE), { force: true });
          // Closing a Unix socket server removes its file.
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
    }
    const seen = inode(socketPath);
    if (seen === undefined) continue;
    const probe = await probeOwner(socketPath);
    if (probe.live) throw new DataDirInUseError(folder, probe.owner);
    // Stale (its owner died): remove it, unless another starter replaced it meanwhile.
    if (inode(socketPath) === seen) rmSync(socketPath, { force: true });
  }
  throw new DataDirInUseError(folder, undefined);
}

/** The live owner of a data folder, if any. */
export async function findDataDirOwner(folder: string): Promise<DataDirOwner | undefined> {
  const probe = await probeOwner(lockSocketPath(folder));
  return probe.live ? probe.owner : undefined;
}

/**
 * A socket path must fit in sun_path (104 bytes on macOS, 108 on Linux): a deep folder gets its
 * lock socket in the temp folder, named by a hash of the folder's real path.
 */
function lockSocketPath(folder: string): string {
  const inFolder = path.join(folder, LOCK_SOCKET);
  if (Buffer.byteLength(inFolder) < 100) return inFolder;
  const hash = createHash('sha256').update(realpathSync(folder)).digest('hex').slice(0, 24);
  return path.join(tmpdir(), `reflect-${hash}.lock`);
}

function listen(server: net.Server, socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(socketPath);
  });
}

function inode(file: string): number | undefined {
  try {
    return lstatSync(file).ino;
  } catch {
    return undefined;
  }
}

/** Live when a connection is accepted (then the owner's answer, if it comes in time); stale when refused. */
function probeOwner(socketPath: string): Promise<{ live: boolean; owner?: DataDirOwner }> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let connected = false;
    let answer = '';
    const finish = (result: { live: boolean; owner?: DataDirOwner }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ live: connected }), ANSWER_MS);
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => {
      try {
        finish({ live: true, owner: JSON.parse(answer) as DataDirOwner });
      } catch {
        finish({ live: true });
      }
    });
    // ECONNREFUSED (a dead owner's file, or not a socket at all) and ENOENT: nobody owns it.
    socket.on('error', () => finish({ live: connected }));
  });
}
