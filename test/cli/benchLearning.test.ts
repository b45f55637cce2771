import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/reflect-server.mjs', import.meta.url).pathname;

describe('reflect-server bench learning (CLI)', () => {
  it('is listed, and has help of its own with its options', async () => {
    expect((await run('node', [bin, '--help'])).stdout).toMatch(/^ {2}bench learning +Learning benchmark/m);
    const { stdout } = await run('node', [bin, 'bench', 'learning', '--help']);
    expect(stdout.split('\n')[0]).toBe('Usage: reflect-server bench learning [options]');
    for (const option of ['--scenario', '--arm', '--seeds', '--episodes', '--out', '--embeddings', '--url']) expect(stdout).toContain(option);
  }, 120_000);

  it('exits 2 naming the problem for an unknown scenario or option, before starting anything', async () => {
    const scenario = await run('node', [bin, 'bench', 'learning', '--scenario', 'nope']).catch((e: { code: number; stderr: string }) => e);
    expect(scenario).toMatchObject({ code: 2 });
    expect((scenario as { stderr: string }).stderr).toContain('Unknown scenario: nope');
    const option = await run('node', [bin, 'bench', 'learning', '--bogus']).catch((e: { code: number; stderr: string }) => e);
    expect(option).toMatchObject({ code: 2 });
    expect((option as { stderr: string }).stderr).toContain("Unknown option '--bogus'");
  }, 120_000);
});
