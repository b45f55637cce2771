import { describe, expect, it } from 'vitest';
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
