#!/usr/bin/env node
// Run after `npm install` on a machine whose registry mirror lacks some platform builds.
// npm records an optional dependency in package-lock.json only if it could fetch its metadata; the
// mirror here answers 404 for msgpackr-extract's macOS/Windows/armv7 builds (an optional native
// add-on of BullMQ's msgpackr), and `npm ci` then rejects the lockfile as out of sync. These
// entries are platform-gated, so npm never fetches them on Linux x64/arm64.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const version = lock.packages['node_modules/msgpackr-extract']?.version;
const platforms = { 'darwin-arm64': ['darwin', 'arm64'], 'darwin-x64': ['darwin', 'x64'], 'linux-arm': ['linux', 'arm'], 'win32-x64': ['win32', 'x64'] };
let added = 0;
for (const [name, [os, cpu]] of Object.entries(platforms)) {
  const key = `node_modules/@msgpackr-extract/msgpackr-extract-${name}`;
  if (!version || lock.packages[key]) continue;
  lock.packages[key] = { version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entries added`);
