import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DataDirInUseError, findDataDirOwner, lockDataDir } from '../../../src/db/embedded/dataDirLock.js';

const dirs: string[] = [];
const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reflect-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

it('a second lock on the folder is refused, naming the owner and where its engine listens', async () => {
  const dir = folder();
  const lock = await lockDataDir(dir, 'serve');
  try {
    expect(readFileSync(path.join(dir, 'reflect-server.pid'), 'utf8').trim()).toBe(String(process.pid));
    const refused = await lockDataDir(dir, 'keys create').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as DataDirInUseError).message).toBe(`${dir} is in use by another reflect-server process (pid ${process.pid}, serve)`);
    expect((refused as DataDirInUseError).owner?.engine).toBeNull();

    lock.publish({ host: dir, port: 5432 });
    expect(await findDataDirOwner(dir)).toEqual({ pid: process.pid, command: 'serve', engine: { host: dir, port: 5432 } });
  } finally {
    await lock.release();
  }
  expect(existsSync(path.join(dir, '.s.reflect.lock'))).toBe(false);
  expect(existsSync(path.join(dir, 'reflect-server.pid'))).toBe(false);
  expect(await findDataDirOwner(dir)).toBeUndefined();
});

it('a lock file nobody listens on (a crashed owner) is removed and taken over', async () => {
  const dir = folder();
  // What SIGKILL leaves: the path exists, nothing accepts connections on it.
  writeFileSync(path.join(dir, '.s.reflect.lock'), '');
  writeFileSync(path.join(dir, 'reflect-server.pid'), '999999\n');
  expect(await findDataDirOwner(dir)).toBeUndefined();
  const lock = await lockDataDir(dir, 'serve');
  try {
    expect((await findDataDirOwner(dir))?.pid).toBe(process.pid);
    expect(readFileSync(path.join(dir, 'reflect-server.pid'), 'utf8').trim()).toBe(String(process.pid));
  } finally {
    await lock.release();
  }
});

it('two starters at once: exactly one wins', async () => {
  const dir = folder();
  const results = await Promise.allSettled([lockDataDir(dir, 'a'), lockDataDir(dir, 'b'), lockDataDir(dir, 'c')]);
  const won = results.filter((r) => r.status === 'fulfilled');
  expect(won).toHaveLength(1);
  for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DataDirInUseError);
  await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockDataDir>>>).value.release();
});
