import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/app.js';
import { NODE_TSX, ROOT, run, SLOW_MS, stopAll } from './support/process.js';
import { skipRedis, startRedis, type RedisServer } from './support/redis.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from './support/serverProcess.js';

const root = mkdtempSync(path.join(tmpdir(), 'reflect-startup-'));
let busy: net.Server;
let busyPort: number;
let closedPort: number;

beforeAll(async () => {
  busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as net.AddressInfo).port;
  // A port nothing listens on: bound once to learn a free number, then closed.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});
afterAll(async () => {
  stopAll();
  await new Promise((resolve) => busy.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

function dataDir(name: string): string {
  return path.join(root, name);
}

const serverTs = [...NODE_TSX.slice(1), 'src/server.ts'];
const bin = [path.join(ROOT, 'bin/reflect-server.mjs'), 'serve'];

describe('a start-up failure is one line naming the setting, exit 2, no stack trace', () => {
  it.concurrent.each([
    ['a busy PORT', serverTs, () => ({ PORT: String(busyPort), REFLECT_DATA_DIR: dataDir('port') }), /^PORT: \d+ is already in use on 127\.0\.0\.1; .*free port$/],
    ['a busy PORT (through the CLI)', bin, () => ({ PORT: String(busyPort), REFLECT_DATA_DIR: dataDir('port-cli') }), /^PORT: \d+ is already in use/],
    ['a HOST that is no address', serverTs, () => ({ HOST: '999.1.1.1', REFLECT_DATA_DIR: dataDir('host') }), /^HOST: 999\.1\.1\.1 is not an IP address; set HOST to an address of this machine/],
    ['a HOST this machine does not have', serverTs, () => ({ HOST: '192.0.2.1', REFLECT_DATA_DIR: dataDir('host-2') }), /^HOST: cannot listen on 192\.0\.2\.1 \(EADDRNOTAVAIL\); set HOST/],
    [
      'an unreachable DATABASE_URL (after its retries)',
      serverTs,
      () => ({
        DATABASE_URL: `postgresql://app:s3cret-pw@127.0.0.1:${closedPort}/reflect`,
        REFLECT_DATABASE_CONNECT_ATTEMPTS: '3',
        REFLECT_DATABASE_CONNECT_BACKOFF_MS: '20',
      }),
      /^DATABASE_URL: cannot reach the database at 127\.0\.0\.1:\d+\/reflect \(ECONNREFUSED\) after 3 attempts; check that it runs/,
    ],
    [
      'a REFLECT_DATA_DIR that is a file',
      serverTs,
      () => {
        writeFileSync(dataDir('a-file'), 'not a folder');
        return { REFLECT_DATA_DIR: dataDir('a-file') };
      },
      /^REFLECT_DATA_DIR: .*a-file is a file, not a folder; point REFLECT_DATA_DIR to/,
    ],
    [
      'a REFLECT_DATA_DIR that holds something else',
      serverTs,
      () => {
        mkdirSync(dataDir('documents'));
        writeFileSync(path.join(dataDir('documents'), 'notes.txt'), 'mine');
        return { REFLECT_DATA_DIR: dataDir('documents') };
      },
      /^REFLECT_DATA_DIR: .*documents holds other files and no reflect-server database/,
    ],
    [
      'REFLECT_EMBEDDING_PROVIDER=openai without a key',
      serverTs,
      () => ({ REFLECT_EMBEDDING_PROVIDER: 'openai', REFLECT_DATA_DIR: dataDir('embedding') }),
      /^REFLECT_EMBEDDING_PROVIDER: openai needs OPENAI_API_KEY/,
    ],
  ] as const)(
    '%s',
    async (_name, args, env, line) => {
      const result = await run(process.execPath, [...args], { HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'test', ...env() });
      expect(result.code, result.stderr + result.stdout).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(line);
      expect(result.stdout + result.stderr).not.toMatch(/\n\s+at |s3cret-pw/);
    },
    SLOW_MS,
  );

  it('a database that starts late is waited for: each retry is logged', async () => {
    const result = await run(process.execPath, serverTs, {
      HOST: '127.0.0.1',
      PORT: '0',
      NODE_ENV: 'test',
      DATABASE_URL: `postgresql://app:pw@127.0.0.1:${closedPort}/reflect`,
      REFLECT_DATABASE_CONNECT_ATTEMPTS: '3',
      REFLECT_DATABASE_CONNECT_BACKOFF_MS: '20',
    });
    expect(result.code).toBe(2);
    expect(result.stdout.match(/the database is not reachable yet; trying again/g)).toHaveLength(2);
  }, SLOW_MS);

  it('the folder that holds something else is left as it was', () => {
    expect(readdirSync(dataDir('documents'))).toEqual(['notes.txt']);
  });
});

describe.skipIf(skipRedis())('the start-up log', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await redis?.close();
  });

  const readyLine = async (server: ServerProcess) => eventually(async () => server.output().split('\n').find((l) => l.includes('reflect-server ready')));

  it('of a worker names no /docs address (it serves none); the API process does', async () => {
    const env = { REFLECT_DATA_DIR: 'memory://', REDIS_URL: `${redis.url}/3` };
    const worker = await startServerProcess([path.join(ROOT, 'bin/reflect-server.mjs'), 'worker'], env);
    const api = await startServerProcess([path.join(ROOT, 'bin/reflect-server.mjs'), 'api'], env);
    try {
      const workerReady = JSON.parse(await readyLine(worker));
      expect(workerReady).toMatchObject({ role: 'worker', url: worker.baseUrl });
      expect(workerReady).not.toHaveProperty('docs');
      expect(JSON.stringify(workerReady)).not.toContain('/docs');
      expect((await fetch(`${worker.baseUrl}/docs`)).status).toBe(404);

      const apiReady = JSON.parse(await readyLine(api));
      expect(apiReady).toMatchObject({ role: 'api', docs: `${api.baseUrl}/docs` });
      expect((await fetch(`${api.baseUrl}/docs`)).status).toBe(200);
    } finally {
      await Promise.all([worker.stop(), api.stop()]);
    }
  }, SLOW_MS);
});
