import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSweepIndex, dropSweepIndex, ensureSweepCopy, removeDataset, seedDataset, type BenchDataset } from '../../bench/queryDataset.js';
import { buildTestApp, type TestApp } from '../support/app.js';

/**
 * The query bench's set-up is safe on a database that holds other data and can run twice in a
 * row: it works on its own user, projects and indexes only (issue 10, item 15: it used to drop
 * every `memories_embedding_hnsw_%` index in the database and fail on a second run).
 */
let t: TestApp;
let otherKey: string;

const appIndexes = async () =>
  (await t.app.database.pool.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'memories' ORDER BY indexname`)).rows;
const otherRows = async () =>
  (await t.app.database.pool.query<{ id: string; embedding: string }>(
    `SELECT m.id, m.embedding::text AS embedding FROM memories m JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = p.owner_user_id WHERE u.external_id = 'another-user' ORDER BY m.id`,
  )).rows;

beforeAll(async () => {
  t = await buildTestApp();
  otherKey = await t.masterKey('another-user');
  for (const task of ['Rotate the TLS certificate of the shop', 'Count the orders created in March', 'Book a flight from Paris to Oslo']) {
    const res = await t.call(otherKey, { method: 'POST', url: '/v1/memories', payload: { task, reflection: `Lesson: ${task}` } });
    expect(res.statusCode).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('the query bench set-up', () => {
  it('runs twice on the same database, touching nothing of another project and none of the app indexes', async () => {
    const pool = t.app.database.pool;
    const deps = { pool, embedder: t.app.embedder, createMasterKey: t.app.auth.createMasterKey };
    const indexesBefore = await appIndexes();
    expect(indexesBefore.some((i) => i.indexname.startsWith('memories_embedding_hnsw_'))).toBe(true);
    const rowsBefore = await otherRows();
    expect(rowsBefore).toHaveLength(3);

    const runs: BenchDataset[] = [];
    for (let i = 0; i < 2; i++) {
      const dataset = await seedDataset(deps, { size: 240, projects: 3, seed: 7 });
      await ensureSweepCopy(pool, dataset, t.app.embedder.model);
      const variant = await buildSweepIndex(pool, dataset, 8, 16);
      expect(variant.bytes).toBeGreaterThan(0);
      runs.push(dataset);
    }
    expect(runs[0]!.runId).not.toBe(runs[1]!.runId);
    for (const run of runs) {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM memories WHERE project_id = ANY($1::uuid[]) AND embedding_model = $2`, [
        run.projects.map((p) => p.id),
        t.app.embedder.model,
      ]);
      expect(rows[0]!.n).toBe(240);
      const copy = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM memories WHERE embedding_model = $1`, [run.sweepModel]);
      expect(copy.rows[0]!.n).toBe(240);
    }

    // The bench refuses to drop an index that is not its own.
    await expect(dropSweepIndex(pool, runs[0]!, indexesBefore.find((i) => i.indexname.startsWith('memories_embedding_hnsw_'))!.indexname)).rejects.toThrow(/refusing/);

    await removeDataset(pool, runs[0]!);
    const { rows: left } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM memories WHERE project_id = ANY($1::uuid[])`, [runs[0]!.projects.map((p) => p.id)]);
    expect(left[0]!.n).toBe(0);
    const indexesAfterOne = (await appIndexes()).map((i) => i.indexname);
    expect(indexesAfterOne.some((n) => n.startsWith(`bench_${runs[0]!.runId}_`))).toBe(false);
    expect(indexesAfterOne.some((n) => n.startsWith(`bench_${runs[1]!.runId}_`))).toBe(true);

    await removeDataset(pool, runs[1]!);
    // Every index of the app is still there with the same definition, and so is the other project's data.
    expect(await appIndexes()).toEqual(indexesBefore);
    expect(await otherRows()).toEqual(rowsBefore);
    const search = await t.call(otherKey, { method: 'POST', url: '/v1/memories/query', payload: { task: 'renew a certificate', limit: 1 } });
    expect(search.statusCode).toBe(200);
    expect(search.json()[0].task).toBe('Rotate the TLS certificate of the shop');
  }, 120_000);
});
