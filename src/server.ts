import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildApp, type Role } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { announceFirstKey } from './firstStart.js';

/** Stops accepting, drains requests, lets jobs finish, closes pools; exits 0 unless it takes too long. */
function closeOnSignals(close: () => Promise<void>, timeoutMs: number): void {
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      const timer = setTimeout(() => {
        process.stderr.write(`Shutdown took longer than ${timeoutMs} ms; exiting.\n`);
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      close().then(
        () => process.exit(0),
        (err) => {
          process.stderr.write(`Shutdown failed: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    });
  }
}

export async function startServer(config: Config, role: Role = 'all'): Promise<void> {
  const app = await buildApp({ config, role });
  closeOnSignals(() => app.close(), config.shutdownTimeoutMs);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  if (role === 'all') await announceFirstKey(app, `http://${host}:${port}`);
  // After the first-start announcement: once this is logged, start-up has fully finished.
  app.log.info({ role, url: `http://${host}:${port}`, docs: `http://${host}:${port}/docs` }, 'reflect-server ready');
}

/** Compared as URLs of real paths: a plain `file://${path}` breaks on spaces, symlinks and Windows. */
function isEntryPoint(script: string | undefined): boolean {
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** Only when run directly: `tsx src/server.ts` (what `npm start` does). */
if (isEntryPoint(process.argv[1])) {
  try {
    await startServer(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
