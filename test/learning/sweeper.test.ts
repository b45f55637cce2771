import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { startSweeper } from '../../src/learning/sweeper.js';
import { createEmbeddedQueue } from '../../src/queue/embeddedQueue.js';
import { createTrace, getTrace, memoriesOfTrace, uniqueTask, useLoopApp, useSharedDatabase, waitForTrace } from '../support/learning.js';
import { skipRedis, transports } from '../support/redis.js';

const database = useSharedDatabase();
const env = { REFLECT_SWEEP_INTERVAL_MS: '200' };

describe.each(transports())('the sweeper finds work the queue never got ($transport)', ({ transport }) => {
  const f = useLoopApp(transport, { database, env });

  it('processes a trace the database says is queued but no job exists for', async () => {
    // As if the API had died between storing the review and enqueueing its job.
    const id = await createTrace(f, { task: uniqueTask('Lost job'), trajectory: 'x' });
    await f.t.app.database.pool.query(
      `update traces set review_result = 'pass', review_alpha = 0.3, reviewed_at = now(), ingest_status = 'queued',
       updated_at = now() - interval '1 minute' where id = $1`,
      [id],
    );
    const trace = await waitForTrace(f, id);
    expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', ingest_attempts: 1 });
    expect(await memoriesOfTrace(f, id)).toBe(1);
  });
});

describe.skipIf(skipRedis())('Redis stopped while traces are created', () => {
  const f = useLoopApp('redis', { database, env });

  it('still accepts them (202, queued) and processes all once Redis is back', async () => {
    await f.redis!.stop();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await createTrace(f, { task: uniqueTask(`While Redis is down ${i}`), trajectory: 'x', review_result: 'pass' }));
    }
    for (const id of ids) expect(await getTrace(f, id)).toMatchObject({ ingest_status: 'queued', ingest_attempts: 0, review_status: 'pending' });

    await f.redis!.start();
    const traces = await Promise.all(ids.map((id) => waitForTrace(f, id)));
    for (const trace of traces) {
      expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', ingest_attempts: 1 });
      expect(await memoriesOfTrace(f, trace.id)).toBe(1);
    }
  });
});

describe('a crash backlog', () => {
  it('is enqueued whole by the first sweep, a page at a time, and not twice by the next', async () => {
    const { db, pool } = database.current;
    await runMigrations(pool);
    const { rows: users } = await pool.query(`insert into users (external_id) values ('backlog-user') returning id`);
    const { rows: projects } = await pool.query(`insert into projects (owner_user_id, slug) values ($1, 'backlog') returning id`, [users[0].id]);
    // As if the process had died with 3,000 reviewed traces waiting: stored, never enqueued anywhere.
    await pool.query(
      `insert into traces (project_id, task, trajectory, final_response, review_result, ingest_status, updated_at)
       select $1, 'backlog ' || i, '[]'::jsonb, '', 'pass', case when i % 10 = 0 then 'processing' else 'queued' end,
              now() - interval '5 minutes' + make_interval(secs => i / 1000.0)
       from generate_series(1, 3000) as i`,
      [projects[0].id],
    );
    const queue = createEmbeddedQueue();
    const log = { info: () => {}, warn: () => {} } as unknown as FastifyBaseLogger;
    const sweeper = startSweeper({ db, queue, intervalMs: 3_600_000, log });
    try {
      // The sweep started with the sweeper; sweep() joins it.
      expect(await sweeper.sweep()).toBe(3000);
      expect(await queue.depth()).toBe(3000);
      expect(await sweeper.sweep()).toBe(0);
      expect(await queue.depth()).toBe(3000);
    } finally {
      await sweeper.stop();
      await queue.close();
      await pool.query(`delete from users where id = $1`, [users[0].id]);
    }
  }, 60_000);
});
