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
    for (const option of ['--scenario', '--arm', '--seeds', '--episodes', '--out', '--embeddings', '--url', '--judge-error', '--judge-alpha', '--human-fractions', '--human-delay']) expect(stdout).toContain(option);
  }, 120_000);

  it('exits 2 naming the problem for an unknown scenario or option, before starting anything', async () => {
    const scenario = await run('node', [bin, 'bench', 'learning', '--scenario', 'nope']).catch((e: { code: number; stderr: string }) => e);
    expect(scenario).toMatchObject({ code: 2 });
    expect((scenario as { stderr: string }).stderr).toContain('Unknown scenario: nope');
    const option = await run('node', [bin, 'bench', 'learning', '--bogus']).catch((e: { code: number; stderr: string }) => e);
    expect(option).toMatchObject({ code: 2 });
    expect((option as { stderr: string }).stderr).toContain("Unknown option '--bogus'");
  }, 120_000);

  it('exits 2 for a judge arm or judge setting out of range', async () => {
    const fail = (...args: string[]) => run('node', [bin, 'bench', 'learning', ...args]).catch((e: { code: number; stderr: string }) => e) as Promise<{ code: number; stderr: string }>;
    expect(await fail('--arm', 'judge+0%')).toMatchObject({ code: 2, stderr: expect.stringContaining('Unknown arm: judge+0%') });
    expect(await fail('--human-fractions', '0.5,2')).toMatchObject({ code: 2, stderr: expect.stringContaining('--human-fractions: comma-separated shares in (0, 1]') });
    expect(await fail('--judge-error', '1.5')).toMatchObject({ code: 2, stderr: expect.stringContaining('--judge-error: a share within 0…1') });
    expect(await fail('--judge-alpha', '0')).toMatchObject({ code: 2, stderr: expect.stringContaining('--judge-alpha: greater than 0 and at most 1') });
    expect(await fail('--human-delay', '-1')).toMatchObject({ code: 2, stderr: expect.stringContaining('--human-delay') });
  }, 120_000);
});
