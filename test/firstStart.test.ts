import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './support/app.js';
import { NODE_TSX, SLOW_MS, start, stopAll } from './support/process.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reflect-first-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  stopAll();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/**
 * `src/server.ts` through tsx on a data directory, until it logs that start-up finished (the first-start
 * announcement comes before that line); then SIGTERM, which must end it cleanly.
 */
async function serve(dataDir: string, env: Record<string, string> = {}) {
  const [node, ...loader] = NODE_TSX;
  const server = start(node, [...loader, 'src/server.ts'], { REFLECT_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
  const ready = await eventually(
    async () => {
      if (server.child.exitCode !== null) throw new Error(`server exited ${server.child.exitCode}: ${server.out.stderr}`);
      const line = server.out.stdout.split('\n').find((l) => l.includes('"reflect-server ready"'));
      return line ? (JSON.parse(line) as { url: string }) : undefined;
    },
    SLOW_MS,
    100,
  );
  const stop = async () => {
    server.child.kill('SIGTERM');
    return server.exited;
  };
  return { url: ready.url, stdout: () => server.out.stdout, stop };
}

const KEY = /rf_live_[A-Za-z0-9]+_[A-Za-z0-9]{32,}/g;

describe('first start of the embedded server', () => {
  it.concurrent('prints one working master key on an empty data directory, and none on the next start', async () => {
    const dir = tempDir();
    const first = await serve(dir, { NODE_ENV: 'development' });
    let key: string;
    try {
      const keys = first.stdout().match(KEY) ?? [];
      expect(new Set(keys).size).toBe(1);
      key = keys[0]!;
      // The curl line shows the real port (PORT=0 picked a free one).
      const curl = first.stdout().split('\n').find((l) => l.includes('curl '))!;
      expect(curl).toContain(`${first.url}/v1/traces`);
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(first.url).not.toMatch(/:0$/);

      const ok = await fetch(`${first.url}/v1/traces`, { headers: { authorization: `Bearer ${key}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual([]);
      const rejected = await fetch(`${first.url}/v1/traces`, { headers: { authorization: `Bearer ${key.slice(0, -1)}x` } });
      expect(rejected.status).toBe(401);
    } finally {
      expect((await first.stop()).code).toBe(0);
    }

    const second = await serve(dir, { NODE_ENV: 'development' });
    try {
      expect(second.stdout()).not.toMatch(KEY);
      const again = await fetch(`${second.url}/v1/traces`, { headers: { 'x-api-key': key } });
      expect(again.status).toBe(200);
    } finally {
      expect((await second.stop()).code).toBe(0);
    }
  }, SLOW_MS);

  it.concurrent('prints no key in production', async () => {
    const server = await serve(tempDir(), { NODE_ENV: 'production' });
    try {
      expect(server.stdout()).not.toMatch(KEY);
      expect(server.stdout()).not.toContain('First start');
      const health = await fetch(`${server.url}/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  }, SLOW_MS);
});
