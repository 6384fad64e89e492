import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { createBackoff } from './backoff.js';
import { errnoCode } from './errno.js';
import { KeyedMutex } from './keyed-mutex.js';
import { isProcessAlive } from './process-alive.js';
import { tempFileName, trackTempFile } from './temp-files.js';

/** Options for {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up after this long with `BACKEND_UNAVAILABLE` (default 10 s). */
  timeoutMs?: number;
  /**
   * A lock older than this is broken even if its holder's pid looks alive (pids get reused after
   * restarts). Default 30 s, for critical sections of milliseconds; pass `Infinity` for long ones
   * (then only a dead holder's lock is broken).
   */
  staleMs?: number;
  /** Longest wait between two tries while another process holds the lock (default 100 ms). */
  maxRetryDelayMs?: number;
  /** Called once, the first time this caller has to wait for another holder. */
  onWait?: () => void;
}

interface LockOwner {
  pid: number;
  host: string;
  /** Identifies this copy of the module, so a reused pid is not mistaken for us. */
  instance: string;
  nonce: string;
  at: number;
}

const FILE_MODE = 0o600;
const HOST = hostname();
const INSTANCE = randomBytes(8).toString('hex');
const BREAKER_STALE_MS = 5_000;

// One queue per lock path for the whole process: two users of one lock never race each other for the
// lock file, and a lock file carrying our own pid and instance is known to be a dead leftover.
const local = new KeyedMutex();

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || typeof value.nonce !== 'string' || typeof value.host !== 'string') return undefined;
    return value as LockOwner;
  } catch {
    return undefined;
  }
}

async function readOwner(path: string): Promise<{ owner: LockOwner | undefined; ageMs: number } | undefined> {
  try {
    const [text, stats] = await Promise.all([
      readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW }),
      stat(path),
    ]);
    return { owner: parseOwner(text), ageMs: Date.now() - stats.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function isStale(found: { owner: LockOwner | undefined; ageMs: number }, staleMs: number): boolean {
  if (found.ageMs > staleMs) return true;
  const owner = found.owner;
  // Lock files are linked into place complete, so an unreadable one was not written by this module:
  // only its age can tell.
  if (owner === undefined || owner.host !== HOST) return false;
  // The in-process queue guarantees we do not hold this path right now.
  if (owner.pid === process.pid) return owner.instance === INSTANCE;
  return !isProcessAlive(owner.pid);
}

/** Places the lock file, complete, or returns `false` if someone holds it. */
async function tryAcquire(path: string, owner: LockOwner): Promise<boolean> {
  const temp = join(dirname(path), tempFileName());
  const untrack = trackTempFile(temp);
  try {
    const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
    try {
      await file.chmod(FILE_MODE);
      await file.writeFile(JSON.stringify(owner));
    } finally {
      await file.close();
    }
    // link() never replaces an existing lock: exactly one contender wins, and the winner's file is complete.
    await link(temp, path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
    untrack();
  }
}

/**
 * Removes a stale lock, but only the one judged stale: a short-lived breaker lock stops two
 * processes from both breaking it and one of them deleting a fresh lock taken in between. Returns
 * whether the lock file is gone.
 */
async function breakStale(path: string, nonce: string | undefined, staleMs: number): Promise<boolean> {
  const breaker = `${path}.break`;
  try {
    const file = await open(breaker, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
    await file.close();
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    // A breaker left by a process that died while breaking: old enough means abandoned.
    const stats = await stat(breaker).catch(() => undefined);
    if (stats !== undefined && Date.now() - stats.mtimeMs > BREAKER_STALE_MS) await unlink(breaker).catch(() => undefined);
    return false;
  }
  try {
    const again = await readOwner(path);
    if (again === undefined) return true;
    if (again.owner?.nonce !== nonce || !isStale(again, staleMs)) return false;
    await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

async function release(path: string, nonce: string): Promise<void> {
  const found = await readOwner(path).catch(() => undefined);
  // Only remove our own lock: if it was broken as stale and re-taken, the new holder keeps it.
  if (found?.owner?.nonce === nonce) await unlink(path).catch(() => undefined);
}

/**
 * Runs `task` holding an exclusive lock shared by every process on this host: a lock file placed with
 * `link()` (atomic, never replaces), holding the owner's pid, host and a nonce. A lock whose owner
 * died (dead pid on this host) or that is older than `staleMs` is broken. Within the process, callers
 * queue per path instead of polling; between processes they retry with capped, jittered backoff.
 * Throws `BACKEND_UNAVAILABLE` after `timeoutMs`.
 */
export async function withFileLock<T>(path: string, task: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 100;
  // Contention between processes is short and rare: start at about a millisecond.
  const retryDelay = createBackoff({ initialMs: Math.min(2, maxRetryDelayMs), maxMs: maxRetryDelayMs, minMs: 0, jitter: 'equal' });
  let waited = false;
  const waiting = () => {
    if (!waited) options.onWait?.();
    waited = true;
  };
  if (local.isBusy(path)) waiting();
  return local.run(path, async () => {
    const deadline = Date.now() + timeoutMs;
    const owner: LockOwner = { pid: process.pid, host: HOST, instance: INSTANCE, nonce: randomBytes(12).toString('hex'), at: Date.now() };
    for (let attempt = 1; ; attempt++) {
      if (await tryAcquire(path, owner)) break;
      const found = await readOwner(path);
      if (found === undefined) continue;
      if (isStale(found, staleMs) && (await breakStale(path, found.owner?.nonce, staleMs))) continue;
      if (Date.now() >= deadline) {
        throw new MultiTenantError(
          'BACKEND_UNAVAILABLE',
          `Timed out after ${timeoutMs} ms waiting for the lock ${basename(path)}${found?.owner ? ` (held by pid ${found.owner.pid})` : ''}.`,
          {
            retryAfterMs: 1_000,
            details: { lock: basename(path), ...(found?.owner ? { pid: found.owner.pid } : {}) },
          },
        );
      }
      waiting();
      await sleep(retryDelay(attempt));
    }
    try {
      return await task();
    } finally {
      await release(path, owner.nonce);
    }
  });
}
