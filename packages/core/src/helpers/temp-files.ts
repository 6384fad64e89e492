import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './errno.js';
import { isProcessAlive } from './process-alive.js';

// `.ocmt-<pid>-<random>.tmp`: hidden (so file names can never reach or list it) and tagged with the
// writer's pid, so a later process can tell an abandoned temp file from one still being written.
const TEMP_PATTERN = /^\.ocmt-(\d{1,10})-[0-9a-f]{12}\.tmp$/;

/** Temp files older than this are removed even if their pid looks alive (pids get reused). */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

// Temp paths this process is writing right now; one set for the whole process, so every writer and
// every sweep agree on which temp files are still in use.
const inFlight = new Set<string>();

/** A fresh temp file name for this process. */
export function tempFileName(): string {
  return `.ocmt-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/** Whether `name` is a temp file name made by {@link tempFileName}. */
export function isTempFileName(name: string): boolean {
  return TEMP_PATTERN.test(name);
}

/** Marks a temp path as being written by this process (so sweeps leave it alone) until the returned function is called. */
export function trackTempFile(path: string): () => void {
  inFlight.add(path);
  return () => inFlight.delete(path);
}

/**
 * Whether a temp file was abandoned: its writer is gone (dead pid, or this process but not in
 * flight) or it is older than an hour.
 */
export function isAbandonedTempFile(path: string, name: string, modifiedAtMs: number, now = Date.now()): boolean {
  const match = TEMP_PATTERN.exec(name);
  if (match === null) return false;
  if (now - modifiedAtMs > ABANDONED_AFTER_MS) return true;
  const pid = Number(match[1]);
  if (pid === process.pid) return !inFlight.has(path);
  return !isProcessAlive(pid);
}

/** Removes abandoned temp files directly inside `dir`; returns how many were removed. A missing directory counts as empty. */
export async function removeAbandonedTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (!isTempFileName(name)) continue;
    const path = join(dir, name);
    try {
      const stats = await lstat(path);
      if (!stats.isFile() || !isAbandonedTempFile(path, name, stats.mtimeMs)) continue;
      await unlink(path);
      removed++;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  return removed;
}

/**
 * {@link removeAbandonedTempFiles}, synchronously, for stores that sweep once at creation. Never
 * throws: a file that is gone already, or not ours to remove, is skipped.
 */
export function removeAbandonedTempFilesSync(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!isTempFileName(name)) continue;
    const path = join(dir, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isFile() || !isAbandonedTempFile(path, name, stats.mtimeMs)) continue;
      unlinkSync(path);
      removed++;
    } catch {
      // Gone already, or not ours to remove: nothing to do.
    }
  }
  return removed;
}
