import { constants } from 'node:fs';
import { type FileHandle, link, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_MODE } from './permissions.js';
import { errnoCode } from './storage-error.js';
import { isAbandonedTempFile, isTempFileName, tempFileName, trackTempFile } from './temp-files.js';

const CREATE_TEMP = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Called with the open temp file before any byte is written; throw to abort (used for containment checks). */
  verify?: (file: FileHandle) => Promise<void>;
}

/** Fsyncs a directory so a rename or link inside it survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic there.
    if (errnoCode(error) !== 'EINVAL' && errnoCode(error) !== 'ENOTSUP') throw error;
  } finally {
    await handle?.close();
  }
}

/** Writes `data` to the new 0600 file `temp` and fsyncs it; removes it again on failure. */
async function writeTemp(temp: string, data: Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const file = await open(temp, CREATE_TEMP, FILE_MODE);
  try {
    // open()'s mode is filtered by the umask; fchmod makes it exactly 0600 whatever the umask.
    await file.chmod(FILE_MODE);
    await options.verify?.(file);
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
}

/**
 * Replaces `dir/name` atomically: readers see the old or the new bytes, never a mix, even if the
 * process dies at any point (temp file in the same directory → fsync → rename → fsync the directory).
 * A leftover temp file is hidden and removed by the next sweep.
 */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = join(dir, tempFileName());
  // Tracked before it exists, so a sweep in this process never mistakes it for an abandoned one.
  const untrack = trackTempFile(temp);
  let renamed = false;
  try {
    await writeTemp(temp, data, options);
    await rename(temp, join(dir, name));
    renamed = true;
    await syncDirectory(dir);
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
    untrack();
  }
}

/**
 * Creates `dir/name` with `data` only if it does not exist yet, atomically (the file appears complete
 * or not at all). Returns `false` when a file of that name already exists.
 */
export async function createFileExclusive(dir: string, name: string, data: Uint8Array): Promise<boolean> {
  const temp = join(dir, tempFileName());
  const untrack = trackTempFile(temp);
  try {
    await writeTemp(temp, data, {});
    // link() fails with EEXIST instead of replacing: an atomic "create if absent" with full content.
    await link(temp, join(dir, name));
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
    untrack();
  }
  await syncDirectory(dir);
  return true;
}

/** Removes abandoned temp files directly inside `dir`; returns how many were removed. */
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
