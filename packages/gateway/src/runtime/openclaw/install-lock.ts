import { open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MultiTenantError } from '@openclaw-mt/core';

/** Name of the lock file inside an install directory. */
export const INSTALL_LOCK = '.openclaw-mt-install.lock';

const POLL_MS = 250;
/** A lock file without a readable pid this old was left by a holder that died while taking it. */
const UNREADABLE_STALE_MS = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock at `path` belongs to a holder that is gone (so it may be broken). */
async function isStale(path: string): Promise<boolean> {
  const [text, info] = await Promise.all([readFile(path, 'utf8').catch(() => undefined), stat(path).catch(() => undefined)]);
  if (info === undefined) return false; // Released meanwhile: just try again.
  const pid = Number(text?.trim());
  if (Number.isSafeInteger(pid) && pid > 0) return !isAlive(pid);
  return Date.now() - info.mtimeMs > UNREADABLE_STALE_MS;
}

/**
 * Runs `install` holding the install directory's lock file, so two installs into one directory (two
 * terminals, a script run twice) never run npm over each other: the second waits for the first and
 * then usually finds nothing left to do. The lock holds the holder's pid; a lock whose holder is gone
 * (a crash) is broken. Waiting past `deadline` fails with `BACKEND_UNAVAILABLE`.
 */
export async function withInstallLock<T>(dir: string, deadline: number, onWait: (() => void) | undefined, install: () => Promise<T>): Promise<T> {
  const path = join(dir, INSTALL_LOCK);
  let waited = false;
  for (;;) {
    try {
      const file = await open(path, 'wx', 0o644);
      try {
        await file.writeFile(`${process.pid}\n`);
      } finally {
        await file.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(path)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new MultiTenantError('BACKEND_UNAVAILABLE', `Another install into ${dir} is still running (${path}).`, { details: { step: 'lock', dir } });
    }
    if (!waited) onWait?.();
    waited = true;
    await sleep(POLL_MS);
  }
  try {
    return await install();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
