import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { installSessionQueue } from './sessionQueue.js';
import type { EngineThreadData, FromEngineThread, ToEngineThread } from './protocol.js';

/**
 * The embedded PostgreSQL engine on its own thread: PGlite (WebAssembly, synchronous while it
 * runs a statement) and the socket that serves it. On the request thread it cost about half of
 * every request's CPU and stalled the event loop for the length of each statement.
 */
const { dataDir, socketPath, settings } = workerData as EngineThreadData;
const port = parentPort!;
const send = (message: FromEngineThread) => port.postMessage(message);

try {
  const engine = await PGlite.create({ dataDir, extensions: { vector } });
  // One session serves every connection here, so setting it once covers them all.
  await engine.exec(settings.map((s) => `SET ${s.replace('=', ' = ')};`).join(' '));
  const server = new PGLiteSocketServer({
    db: engine,
    ...(socketPath ? { path: socketPath } : { host: '127.0.0.1', port: 0 }),
    maxConnections: 64,
  });
  // The library's own queue lets concurrent connections' queries interleave (see the module).
  installSessionQueue(server, engine);
  await server.start();
  port.on('message', (message: ToEngineThread) => {
    if (message.type !== 'close') return;
    void (async () => {
      await server.stop();
      await engine.close();
      send({ type: 'closed' });
      port.close();
    })().catch((error: unknown) => send({ type: 'failed', message: String(error) }));
  });
  send({ type: 'ready', address: server.getServerConn() });
} catch (error) {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
