/**
 * A real `redis-server` for the Redis transport tests: a child process on a free port with a
 * temp dir and no persistence, which can be stopped and started again on the same port.
 *
 * Without the binary the Redis variants are skipped with a message; under CI=true they fail
 * instead, so a CI machine that lost Redis cannot pass by testing less.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`; append `/<db>` to isolate apps sharing this server. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and waits until the port refuses connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted). */
  start(): Promise<void>;
  /** Stops it for good and removes its temp dir. */
  close(): Promise<void>;
}

let availability: boolean | undefined;

/** Whether the redis-server binary runs here. */
export function redisServerAvailable(): boolean {
  availability ??= spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
  return availability;
}

/** True when the Redis variants must be skipped: no binary and not under CI (where it fails instead). */
export function skipRedis(): boolean {
  if (redisServerAvailable() || process.env.CI === 'true') return false;
  console.warn(`[test] ${BINARY} not found: skipping the Redis transport tests (apt-get install -y redis-server; under CI=true they fail)`);
  return true;
}

/** The two job transports, for `describe.each`: the Redis one is left out when skipRedis(). */
export function transports(): Array<{ transport: 'embedded' | 'redis' }> {
  return skipRedis() ? [{ transport: 'embedded' }] : [{ transport: 'embedded' }, { transport: 'redis' }];
}

export async function startRedis(): Promise<RedisServer> {
  if (!redisServerAvailable()) {
    throw new Error(`${BINARY} is not installed (CI=${process.env.CI ?? ''}); install it with apt-get install -y redis-server`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'reflect-redis-'));
  // redis-server cannot bind port 0 and say which port it got, so it is given a port the kernel
  // just handed out; if another process takes that port first, the start is tried on a new one.
  let port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) return;
    const proc = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => {
        if (child === proc) child = undefined;
        reject(new Error(`redis-server exited with ${code}:\n${output.slice(-2000)}`));
      }),
    );
    exited.catch(() => {});
    await Promise.race([waitFor(() => ping(port), 10_000), exited]);
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    child = undefined;
    const gone = new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(timer);
    await waitFor(async () => !(await ping(port)), 5_000);
  }

  for (let tries = 1; ; tries++) {
    try {
      await start();
      break;
    } catch (error) {
      if (tries >= 5 || !/Address already in use/i.test(String(error))) throw error;
      port = await freePort();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sends a raw PING; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`redis-server: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
