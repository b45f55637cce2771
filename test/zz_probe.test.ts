import { it, expect } from 'vitest';
import { openDatabase } from '/work/main/src/db/client.js';
it('probe', async () => {
  const db = await openDatabase({ dataDir: 'memory://' });
  await db.pool.query('create table k (id text primary key, v int)');
  await db.pool.query("insert into k values ('a', 1), ('b', 2)");
  let stop = false; let empty = 0; let total = 0; let errors: string[] = [];
  const writer = (async () => {
    while (!stop) {
      await db.db.transaction(async (tx) => {
        await tx.execute(`select * from k where id = 'b' for update` as any);
        await new Promise(r => setTimeout(r, 5));
        await tx.execute(`update k set v = v + 1 where id = 'b'` as any);
      });
    }
  })();
  const readers = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        const r = await db.pool.query("select * from k where id = $1", ['a']);
        total++; if (r.rows.length !== 1) empty++;
      } catch (e) { errors.push(String(e)); }
    }
  });
  await new Promise(r => setTimeout(r, 4000));
  stop = true; await writer; await Promise.all(readers);
  console.log({ total, empty, errors: errors.slice(0, 3) });
  await db.close();
});
