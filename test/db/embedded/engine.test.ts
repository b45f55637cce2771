import { expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/client.js';

// PGlite runs a statement synchronously; on the request thread that stalled every request for
// the statement's length. It runs on its own thread, so the event loop keeps turning meanwhile.
it('runs statements off the event loop', async () => {
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await database.pool.query('select pg_sleep(0.5)');
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(10);
  } finally {
    await database.close();
  }
});
