#!/usr/bin/env node
/**
 * Builds the console (console/ → console/dist) with Vite. `--if-stale` builds only when a source
 * is newer than the last build, so `npm start` (its prestart) costs nothing on an unchanged tree.
 * Without dev dependencies (an `npm ci --omit=dev` install) it says so and leaves the API running
 * without a console, rather than failing the start. One build at a time (a lock file), since
 * tests and `npm start` may ask at once.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = path.join(root, 'console');
const stamp = path.join(consoleDir, 'dist', '.built');
const lock = path.join(consoleDir, '.build.lock');
const ifStale = process.argv.includes('--if-stale');

/** Newest modification time under the console's sources and the generated client it imports. */
function newestSource() {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const name of readdirSync(p)) if (name !== 'dist' && name !== 'node_modules' && !name.startsWith('.')) visit(path.join(p, name));
    } else newest = Math.max(newest, s.mtimeMs);
  };
  visit(consoleDir);
  visit(path.join(root, 'client'));
  visit(path.join(root, 'package-lock.json'));
  return newest;
}

const isStale = () => !existsSync(stamp) || statSync(stamp).mtimeMs < newestSource();

async function withLock(fn) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // A lock older than three minutes belongs to a build that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`console build: ${lock} is held for too long`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

if (ifStale && !isStale()) process.exit(0);

let vite;
try {
  vite = await import('vite');
} catch {
  process.stderr.write(
    existsSync(stamp)
      ? 'console: Vite is not installed (production install); serving the console built earlier.\n'
      : 'console: not built and Vite is not installed (install dev dependencies, then `npm run build:console`); the API runs without the console.\n',
  );
  process.exit(0);
}

await withLock(async () => {
  if (ifStale && !isStale()) return; // Another process built it while we waited.
  const started = Date.now();
  await vite.build({ configFile: path.join(consoleDir, 'vite.config.ts'), logLevel: 'warn' });
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, new Date().toISOString() + '\n');
  process.stdout.write(`console: built console/dist in ${Date.now() - started} ms\n`);
});
