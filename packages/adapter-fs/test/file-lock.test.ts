import { spawnSync } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { rejectsWithCode } from '@openclaw-mt/core/testing';
import { withFileLock } from '../src/file-lock.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('lock');
afterAll(() => dirs.cleanup());

/** The pid of a process that has exited (and been reaped): certainly not alive. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('withFileLock', () => {
  test('critical sections never overlap, and the lock file is gone afterwards', async () => {
    const dir = dirs.make();
    const path = join(dir, 'x.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 30 }, () =>
        withFileLock(path, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(1);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('the lock is released when the task throws', async () => {
    const dir = dirs.make();
    const path = join(dir, 'x.lock');
    await expect(withFileLock(path, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(readdirSync(dir)).toEqual([]);
    expect(await withFileLock(path, async () => 'again')).toBe('again');
  });

  test('a lock left by a dead process on this host is broken', async () => {
    const path = join(dirs.make(), 'x.lock');
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), instance: 'other', nonce: 'n1', at: Date.now() }));
    expect(await withFileLock(path, async () => 'taken', { timeoutMs: 2_000 })).toBe('taken');
  });

  test('a lock held by a live process is waited for, then refused with BACKEND_UNAVAILABLE', async () => {
    const path = join(dirs.make(), 'x.lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), instance: 'other', nonce: 'n1', at: Date.now() }));
    await rejectsWithCode(() => withFileLock(path, async () => 'never', { timeoutMs: 100 }), 'BACKEND_UNAVAILABLE');
  });

  test('a lock older than staleMs is broken even if its pid looks alive (pid reuse)', async () => {
    const path = join(dirs.make(), 'x.lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), instance: 'other', nonce: 'n1', at: 0 }));
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    expect(await withFileLock(path, async () => 'taken', { timeoutMs: 2_000, staleMs: 30_000 })).toBe('taken');
  });

  test('an unreadable lock file is only broken by age', async () => {
    const path = join(dirs.make(), 'x.lock');
    writeFileSync(path, 'garbage');
    await rejectsWithCode(() => withFileLock(path, async () => 'never', { timeoutMs: 100 }), 'BACKEND_UNAVAILABLE');
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    expect(await withFileLock(path, async () => 'taken', { timeoutMs: 2_000 })).toBe('taken');
  });
});
