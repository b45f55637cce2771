import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../src/db/client.js';

// The embedded engine is one PostgreSQL session shared by every connection of the socket. These
// check that concurrent connections still each get their own answers (electric-sql/pglite#1046).
let database: Database;
let pool: pg.Pool;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://' });
  pool = new pg.Pool({ connectionString: database.url, max: 8 });
  await pool.query('create table probe (id text primary key, v int not null)');
  await pool.query("insert into probe values ('a', 1), ('b', 2)");
});
afterAll(async () => {
  await pool.end();
  await database.close();
});

it('answers parameterized queries of concurrent connections with their own rows', async () => {
  const queries = Array.from({ length: 200 }, (_, i) => {
    const id = i % 2 === 0 ? 'a' : 'b';
    return pool.query<{ id: string; v: number; n: number }>('select id, v, $2::int as n from probe where id = $1', [id, i]);
  });
  const results = await Promise.all(queries);
  results.forEach((result, i) => {
    expect(result.rows).toEqual([{ id: i % 2 === 0 ? 'a' : 'b', v: i % 2 === 0 ? 1 : 2, n: i }]);
  });
});

it('lets other connections read while one holds a transaction open, without mixing them', async () => {
  let stop = false;
  const writer = (async () => {
    let commits = 0;
    while (!stop) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query('select v from probe where id = $1 for update', ['b']);
        await new Promise((r) => setTimeout(r, 2));
        await client.query('update probe set v = v + 1 where id = $1', ['b']);
        await client.query('commit');
        commits++;
      } finally {
        client.release();
      }
    }
    return commits;
  })();
  const reads: number[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 40; i++) {
        const { rows } = await pool.query<{ v: number }>('select v from probe where id = $1', ['a']);
        reads.push(rows.length === 1 ? rows[0]!.v : -1);
      }
    }),
  );
  stop = true;
  const commits = await writer;
  expect(reads).toEqual(Array(160).fill(1));
  expect(commits).toBeGreaterThan(0);
  const { rows } = await pool.query<{ v: number }>('select v from probe where id = $1', ['b']);
  expect(rows[0]!.v).toBe(2 + commits);
});

it('keeps serving after a query fails and after a client vanishes mid-transaction', async () => {
  await expect(pool.query('select * from no_such_table where id = $1', ['x'])).rejects.toThrow(/no_such_table/);
  const lost = new pg.Client({ connectionString: database.url });
  await lost.connect();
  await lost.query('begin');
  await lost.query("update probe set v = 100 where id = 'a'");
  // A crashed process: the socket closes with the transaction still open.
  (lost as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  await lost.end().catch(() => undefined);
  const { rows } = await pool.query<{ v: number }>('select v from probe where id = $1', ['a']);
  expect(rows).toEqual([{ v: 1 }]);
});
