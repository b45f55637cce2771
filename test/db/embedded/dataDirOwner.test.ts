import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { http, killAllServerProcesses, startServerProcess } from '../../support/serverProcess.js';
import { NODE_TSX, ROOT, run, SLOW_MS, stopAll } from '../../support/process.js';

const BIN = path.join(ROOT, 'bin/reflect-server.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'reflect-owner-'));
afterAll(async () => {
  stopAll();
  await killAllServerProcesses();
  rmSync(dir, { recursive: true, force: true });
});

it(
  'one server owns a data folder; the CLI works through it; a second server is refused; a crash frees it',
  async () => {
    const server = await startServerProcess(['src/server.ts'], { REFLECT_DATA_DIR: dir });
    expect(readFileSync(path.join(dir, 'reflect-server.pid'), 'utf8').trim()).toBe(String(server.pid));

    // The CLI while the server runs: its key works against the running server.
    const created = await run(process.execPath, [BIN, 'keys', 'create', '--user', 'cli-user', '--project', 'cli-project'], { REFLECT_DATA_DIR: dir });
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^rf_live_/);
    expect((await run(process.execPath, [BIN, 'migrate'], { REFLECT_DATA_DIR: dir })).code).toBe(0);

    // The server's engine is untouched: its socket is still there, and requests that need new
    // connections (more at once than the pool had open) all succeed.
    expect(existsSync(path.join(dir, '.s.PGSQL.5432'))).toBe(true);
    const trace = await http(server, key, 'POST', '/v1/traces', { task: 'stored while the CLI ran', trajectory: 'x' });
    expect(trace.status).toBe(202);
    const answers = await Promise.all(Array.from({ length: 30 }, () => http(server, key, 'GET', '/v1/api-keys')));
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));

    // A second server on the same folder: refused at once, naming the folder and the owner.
    const second = await run(NODE_TSX[0], [...NODE_TSX.slice(1), 'src/server.ts'], { REFLECT_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test' });
    expect(second.code).toBe(2);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('REFLECT_DATA_DIR');
    expect(lines[0]).toContain(path.resolve(dir));
    expect(lines[0]).toContain(`pid ${server.pid}`);
    expect((await http(server, key, 'GET', `/v1/traces/${trace.json.id}`)).status).toBe(200);

    // SIGKILL leaves the lock socket, the engine socket and the pid file behind: the next start cleans them up.
    await server.kill();
    expect(existsSync(path.join(dir, '.s.reflect.lock'))).toBe(true);
    const restarted = await startServerProcess(['src/server.ts'], { REFLECT_DATA_DIR: dir });
    try {
      const again = await http(restarted, key, 'GET', `/v1/traces/${trace.json.id}`);
      expect(again.status).toBe(200);
      expect(again.json.task).toBe('stored while the CLI ran');
    } finally {
      expect((await restarted.stop()).code).toBe(0);
    }
    // A clean stop releases the folder.
    expect(existsSync(path.join(dir, '.s.reflect.lock'))).toBe(false);
    expect(existsSync(path.join(dir, 'reflect-server.pid'))).toBe(false);
  },
  SLOW_MS,
);
