import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT, run, SLOW_MS, stopAll } from '../support/process.js';

const BIN = path.join(ROOT, 'bin/reflect-server.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'reflect-cli-fail-'));
afterAll(() => {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

it.concurrent.each([
  ['reembed with the openai provider and no key', ['reembed'], async () => ({ REFLECT_EMBEDDING_PROVIDER: 'openai', REFLECT_DATA_DIR: path.join(dir, 'e') }), /^REFLECT_EMBEDDING_PROVIDER: openai needs OPENAI_API_KEY/],
  [
    'keys create on a REFLECT_DATA_DIR that is a file',
    ['keys', 'create', '--user', 'u'],
    async () => {
      writeFileSync(path.join(dir, 'file'), '');
      return { REFLECT_DATA_DIR: path.join(dir, 'file') };
    },
    /^REFLECT_DATA_DIR: .* is a file, not a folder/,
  ],
  [
    'migrate with an unreachable DATABASE_URL',
    ['migrate'],
    async () => ({ DATABASE_URL: `postgresql://u:pw@127.0.0.1:${await closedPort()}/db`, REFLECT_DATABASE_CONNECT_ATTEMPTS: '1' }),
    /^DATABASE_URL: cannot reach the database at 127\.0\.0\.1:\d+\/db \(ECONNREFUSED\) after 1 attempt;/,
  ],
] as const)(
  '%s: one line naming the setting, exit 2',
  async (_name, args, env, line) => {
    const result = await run(process.execPath, [BIN, ...args], await env());
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  },
  SLOW_MS,
);
