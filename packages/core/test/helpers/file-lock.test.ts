import { spawnSync } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { eventually, rejectsWithCode } from '@openclaw-mt/core/testing';
import { withFileLock } from '@openclaw-mt/core/helpers';
import { tempDirs } from './temp-dir.js';

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

  test('a second caller in this process queues behind the first, and says once that it waits', async () => {
    const path = join(dirs.make(), 'x.lock');
    const order: string[] = [];
    let waits = 0;
    let releaseFirst!: () => void;
    const first = withFileLock(path, async () => {
      order.push('first in');
      await new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      order.push('first out');
    });
    const second = withFileLock(path, async () => order.push('second'), { onWait: () => waits++ });
    await eventually(() => order.length === 1, 5_000, 'the first holder to enter');
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second']);
    expect(waits).toBe(1);
  });

  test('waiting for another process says so once; with staleMs Infinity a live holder is never broken by age', async () => {
    const path = join(dirs.make(), 'x.lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), instance: 'other', nonce: 'n1', at: 0 }));
    const old = new Date(Date.now() - 24 * 3_600_000);
    utimesSync(path, old, old);
    let waits = 0;
    await rejectsWithCode(
      () => withFileLock(path, async () => 'never', { timeoutMs: 150, staleMs: Number.POSITIVE_INFINITY, onWait: () => waits++ }),
      'BACKEND_UNAVAILABLE',
    );
    expect(waits).toBe(1);
  });
});
