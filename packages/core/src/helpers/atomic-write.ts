import { constants } from 'node:fs';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errnoCode } from './errno.js';
import { tempFileName, trackTempFile } from './temp-files.js';

const CREATE_TEMP = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Options for {@link writeFileAtomic} and {@link stageFileAtomic}. */
export interface AtomicWriteOptions {
  /** Mode of the new file, exactly, whatever the umask (default 0600). */
  mode?: number;
  /** Called with the open temp file before any byte is written; throw to abort (for containment checks). */
  verify?: (file: FileHandle) => Promise<void>;
  /**
   * Fsync the file before it is moved into place and its directory after (default `true`). Turn off
   * only for files that are a cache of a durable copy kept elsewhere.
   */
  durable?: boolean;
}

/** A file written next to its target but not yet in place. */
export interface StagedFile {
  /** Moves it over the target (atomic: readers see the old or the new file); removes it on failure. */
  commit(): Promise<void>;
  /** Throws it away. */
  discard(): Promise<void>;
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

/** Writes `data` to the new file `temp` (never following a link) and fsyncs it if durable; removes it again on failure. */
async function writeTemp(temp: string, data: Uint8Array | string, options: AtomicWriteOptions): Promise<void> {
  const mode = options.mode ?? 0o600;
  const file = await open(temp, CREATE_TEMP, mode);
  try {
    // open()'s mode is filtered by the umask; fchmod makes it exact.
    await file.chmod(mode);
    await options.verify?.(file);
    await file.writeFile(data);
    if (options.durable !== false) await file.sync();
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
}

/**
 * Writes `data` to a hidden temp file beside `path`, to be moved over it later with `commit()`: for
 * callers that must do something else (write a remote copy) between writing and replacing.
 */
export async function stageFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<StagedFile> {
  const dir = dirname(path);
  const temp = join(dir, tempFileName());
  // Tracked before it exists, so a sweep in this process never mistakes it for an abandoned one.
  const untrack = trackTempFile(temp);
  try {
    await writeTemp(temp, data, options);
  } catch (error) {
    untrack();
    throw error;
  }
  let settled = false;
  const discard = async () => {
    if (settled) return;
    settled = true;
    await unlink(temp).catch(() => undefined);
    untrack();
  };
  return {
    async commit() {
      if (settled) return;
      try {
        await rename(temp, path);
      } catch (error) {
        await discard();
        throw error;
      }
      settled = true;
      untrack();
      if (options.durable !== false) await syncDirectory(dir);
    },
    discard,
  };
}

/**
 * Replaces `path` atomically: readers see the old or the new bytes, never a mix, even if the process
 * dies at any point (temp file in the same directory → fsync → rename → fsync the directory). The new
 * file is 0600 unless `mode` says otherwise; a leftover temp file is hidden, and
 * `removeAbandonedTempFiles` clears it later.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  await (await stageFileAtomic(path, data, options)).commit();
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically (the file appears complete or
 * not at all) and durably. Returns `false` when a file of that name already exists.
 */
export async function createFileExclusive(
  path: string,
  data: Uint8Array | string,
  options: Pick<AtomicWriteOptions, 'mode'> = {},
): Promise<boolean> {
  const dir = dirname(path);
  const temp = join(dir, tempFileName());
  const untrack = trackTempFile(temp);
  try {
    await writeTemp(temp, data, options);
    // link() fails with EEXIST instead of replacing: an atomic "create if absent" with full content.
    await link(temp, path);
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
