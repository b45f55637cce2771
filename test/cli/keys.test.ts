import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.js';
import { ROOT, run, SLOW_MS, stopAll } from '../support/process.js';

const BIN = path.join(ROOT, 'bin/reflect-server.mjs');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reflect-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  stopAll();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

describe('reflect-server keys create', () => {
  it('prints one master key that authenticates against the same data directory', async () => {
    const dir = tempDir();
    const result = await run(process.execPath, [BIN, 'keys', 'create', '--user', 'cli-user', '--project', 'cli-project'], { REFLECT_DATA_DIR: dir });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const key = lines[0]!;
    expect(key).toMatch(/^rf_live_[A-Za-z0-9]+_[A-Za-z0-9]{32,}$/);
    expect(result.stderr).toContain('cli-user');

    // The CLI has exited (and closed its database): now the server opens the same directory.
    const t = await buildTestApp({ REFLECT_DATA_DIR: dir });
    try {
      const created = await t.call(key, { method: 'POST', url: '/v1/traces', project: 'cli-project', payload: { task: 't', trajectory: 'x' } });
      expect(created.statusCode).toBe(202);
      const keys = await t.call(key, { method: 'GET', url: '/v1/api-keys', project: 'cli-project' });
      expect(keys.json()).toContainEqual(expect.objectContaining({ is_master: true, user_id: 'cli-user', project_id: 'cli-project', label: 'CLI key' }));
      expect((await t.call(`${key}x`, { method: 'GET', url: '/v1/traces' })).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  }, SLOW_MS);

  it('--help prints the usage and exits 0', async () => {
    const result = await run(process.execPath, [BIN, 'keys', 'create', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: reflect-server keys create');
    expect(result.stdout).toContain('--user');
  }, SLOW_MS);

  it.concurrent.each([
    ['without --user', ['keys', 'create'], '--user: required'],
    ['with a project slug X-Project-Id could never name', ['keys', 'create', '--user', 'u', '--project', 'a b'], '--project: must be'],
    ['with an unknown environment', ['keys', 'create', '--user', 'u', '--environment', 'prod'], '--environment: must be live or test'],
    ['with an unknown option', ['keys', 'create', '--user', 'u', '--bogus'], 'bogus'],
  ])('exits 2 %s, printing no key and creating no database', async (_name, args, message) => {
    const dir = path.join(tempDir(), 'data');
    const result = await run(process.execPath, [BIN, ...args], { REFLECT_DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: reflect-server');
    expect(result.stdout).not.toMatch(/rf_live_/);
    expect(existsSync(dir)).toBe(false);
  }, SLOW_MS);
});
