import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/reflect-server.mjs', import.meta.url).pathname;
const COMMANDS = ['serve', 'api', 'worker', 'migrate', 'keys create', 'reembed'];

describe('reflect-server --help', () => {
  it('lists every command', async () => {
    const { stdout } = await run('node', [bin, '--help']);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it.each(COMMANDS)('has help of its own for "%s"', async (command) => {
    const { stdout } = await run('node', [bin, ...command.split(' '), '--help']);
    expect(stdout.split('\n')[0]).toBe(`Usage: reflect-server ${command}${command === 'keys create' || command === 'reembed' ? ' [options]' : ''}`);
  });
});
