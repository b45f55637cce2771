import { realpathSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { buildApp, type Role } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { announceFirstKey } from './firstStart.js';
import { StartupError } from './startupError.js';

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

/** Settings that can be seen to be wrong before anything is opened. */
function checkSettings(config: Config): void {
  // Looks like an IPv4 address but is none: no DNS lookup (which may take long offline) can help.
  if (/^[\d.]+$/.test(config.host) && !net.isIP(config.host)) {
    throw new StartupError('HOST', `${config.host} is not an IP address; set HOST to an address of this machine, e.g. 127.0.0.1, or 0.0.0.0 for all`);
  }
  if (config.embedding.provider === 'openai' && !config.llm.apiKey) {
    throw new StartupError(
      'REFLECT_EMBEDDING_PROVIDER',
      'openai needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server); set it, or use REFLECT_EMBEDDING_PROVIDER=local',
    );
  }
}

/** Why HOST:PORT cannot be listened on, as a StartupError; other errors unchanged. */
function listenFailure(error: unknown, config: Config): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new StartupError('PORT', `${config.port} is already in use on ${config.host}; stop what listens there, or set PORT to a free port`);
  }
  if (code === 'EACCES') return new StartupError('PORT', `${config.port} needs privileges on this machine; set PORT to 1024 or above`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EINVAL' || code === 'EAI_NONAME') {
    return new StartupError('HOST', `cannot listen on ${config.host} (${code}); set HOST to an address of this machine, e.g. 127.0.0.1, or 0.0.0.0 for all`);
  }
  return error;
}

/** Tries HOST:PORT before the (slow) start, so a busy port or a wrong host fails at once. */
async function checkListenAddress(config: Config): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(listenFailure(error, config)));
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export async function startServer(config: Config, role: Role = 'all'): Promise<void> {
  checkSettings(config);
  await checkListenAddress(config);
  const app = await buildApp({ config, role });
  closeOnSignals(() => app.close(), config.shutdownTimeoutMs);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // Taken since the check: close what was opened (the data folder's lock, the engine) first.
    await app.close().catch(() => {});
    throw listenFailure(error, config);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${port}`;
  if (role === 'all') await announceFirstKey(app, url);
  // After the first-start announcement: once this is logged, start-up has fully finished.
  // A worker serves only health, readiness and metrics: no docs to point at.
  app.log.info({ role, url, ...(role === 'worker' ? {} : { console: `${url}/`, docs: `${url}/docs` }) }, 'reflect-server ready');
}

/**
 * The entry points' start: a failure the operator can fix (settings, port, host, database, data
 * folder) is one line on stderr and exit 2, never a stack trace.
 */
export async function runServer(config: () => Config, role: Role = 'all'): Promise<void> {
  try {
    await startServer(config(), role);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
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
if (isEntryPoint(process.argv[1])) await runServer(() => loadConfig());
