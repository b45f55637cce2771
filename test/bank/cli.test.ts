import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually } from '../support/app.js';
import { ROOT, run, SLOW_MS, start, stopAll } from '../support/process.js';
import { startServerProcess, type ServerProcess } from '../support/serverProcess.js';

// The CLI round trip through real processes: export from one data folder, import into another
// whose server is running (the CLI then works through that server's engine), same query results.

const BIN = path.join(ROOT, 'bin/reflect-server.mjs');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reflect-bank-'));
  dirs.push(dir);
  return dir;
};
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  stopAll();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

async function runWithStdin(args: string[], env: Record<string, string>, stdin: string) {
  const child = start(process.execPath, [BIN, ...args], env);
  child.child.stdin.end(stdin);
  return child.exited;
}

const TASKS = ['Sum the March invoices by region', 'Count the refunds of last week', 'Join customers to their orders'];
type Row = Record<string, unknown>;
const strip = (rows: Row[]) => rows.map(({ source_trace_id: _s, ...rest }) => rest);

describe('reflect-server export | import', () => {
  it('carries a project to another data folder, whose server is running, with the same query results', async () => {
    const source = tempDir();
    const t = await buildTestApp({ REFLECT_DATA_DIR: source });
    const before: Row[][] = [];
    try {
      const key = await t.masterKey('cli-user', 'notes');
      const ids: string[] = [];
      for (const task of TASKS) {
        const res = await t.call(key, { method: 'POST', url: '/v1/memories', project: 'notes', payload: { task, reflection: `About: ${task}`, tags: ['cli'] } });
        expect(res.statusCode, res.body).toBe(201);
        ids.push(res.json().id);
      }
      await t.call(key, { method: 'POST', url: `/v1/memories/${ids[2]}/invalidate`, project: 'notes', payload: { reason: 'wrong join' } });
      // A bank large enough for progress lines: 1,100 more memories, invalid so never retrieved.
      await t.app.database.pool.query(
        `insert into memories (project_id, task, reflection, embedding, embedding_model, invalidated_at, invalid_reason)
         select project_id, 'filler ' || g, 'r', embedding, embedding_model, now(), 'filler' from memories, generate_series(1, 1100) g where id = $1`,
        [ids[0]],
      );
      for (const task of TASKS) before.push((await t.call(key, { method: 'POST', url: '/v1/memories/query', project: 'notes', payload: { task } })).json());
    } finally {
      await t.close();
    }

    const exported = await run(process.execPath, [BIN, 'export', '--project', 'notes'], { REFLECT_DATA_DIR: source });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('Exported 1000 lines (');
    expect(exported.stderr).toContain('Done: exported 1105 lines');
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ kind: 'header', project: 'notes', counts: { memories: 1103, history: 1 } });

    const target = tempDir();
    server = await startServerProcess(['src/server.ts'], { REFLECT_DATA_DIR: target });
    // The first-start key is printed just after the server starts listening.
    const running = server;
    const key = await eventually(async () => running.firstKey);

    // A bad line: exit 2 naming it, nothing written.
    const bad = exported.stdout.split('\n');
    bad[1] = JSON.stringify({ ...JSON.parse(bad[1]!), embedding: 'none' });
    const refused = await runWithStdin(['import', '--user', 'local', '--project', 'copied'], { REFLECT_DATA_DIR: target }, bad.join('\n'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('line 2');
    expect(refused.stderr).toContain('nothing was imported');
    const projects = await fetch(`${server.baseUrl}/v1/projects`, { headers: { authorization: `Bearer ${key}` } });
    expect(JSON.stringify(await projects.json())).not.toContain('copied');

    const imported = await runWithStdin(['import', '--user', 'local', '--project', 'copied'], { REFLECT_DATA_DIR: target }, exported.stdout);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain('Read 1000 lines');
    expect(imported.stderr).toContain('Wrote 1000 rows');
    expect(imported.stderr).toContain('Done: imported 1103 memories, 1 history');

    for (const [i, task] of TASKS.entries()) {
      const res = await fetch(`${server.baseUrl}/v1/memories/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'x-project-id': 'copied', 'content-type': 'application/json' },
        body: JSON.stringify({ task }),
      });
      expect(res.status).toBe(200);
      expect(strip((await res.json()) as Row[])).toEqual(strip(before[i]!));
    }
    expect(before.flat().length).toBeGreaterThan(0);
  }, SLOW_MS);

  it('an import of a bad file exits 2 without opening the database', async () => {
    const dir = path.join(tempDir(), 'data');
    const result = await runWithStdin(['import', '--project', 'x'], { REFLECT_DATA_DIR: dir }, '{"kind":"memory"}\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 1');
    expect(existsSync(dir)).toBe(false);
  }, SLOW_MS);
});
