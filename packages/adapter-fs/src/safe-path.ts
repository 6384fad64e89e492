import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';
import { DIRECTORY_MODE } from './permissions.js';
import { errnoCode } from './storage-error.js';

/**
 * Whether `candidate` is `root` or lies under it. Separator-aware: `/data/a` does not contain
 * `/data/ab`. Both must be absolute, normalised paths (realpaths).
 */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(sep) ? root : `${root}${sep}`;
  return candidate.startsWith(prefix);
}

/** The coded error for a name that a symlink (or a swapped directory) would take outside its root. */
export function pathEscape(name: string): MultiTenantError {
  return new MultiTenantError(
    'PATH_ESCAPE',
    `${name}: the path leads outside the workspace (a symbolic link or a moved directory); it was not followed.`,
    {
      details: { name },
    },
  );
}

/** Creates one directory with exactly 0700, without following a symlink planted at its place. */
async function makeDirectory(path: string, name: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIRECTORY_MODE });
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return;
    throw error;
  }
  // mkdir's mode is filtered by the umask; O_NOFOLLOW + fchmod sets it exactly, on the directory we made.
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    await handle.chmod(DIRECTORY_MODE);
  } catch (error) {
    if (errnoCode(error) === 'ELOOP' || errnoCode(error) === 'ENOTDIR') throw pathEscape(name);
    throw error;
  } finally {
    await handle?.close();
  }
}

/** How {@link resolveDirectory} treats missing directories. */
export type DirectoryMode = 'create' | 'lookup';

/**
 * Walks `segments` down from `root` (a realpath) one directory at a time with `lstat`, never following
 * a symlink: a symlink anywhere on the way throws `PATH_ESCAPE`. With `create`, missing directories
 * are made (0700); a file in the way throws `PATH_INVALID`. With `lookup`, a missing directory or a
 * file in the way returns `undefined`. Finally checks the realpath of the result against `root`.
 * `name` is the caller's relative name, used in error messages.
 */
export async function resolveDirectory(
  root: string,
  segments: readonly string[],
  mode: DirectoryMode,
  name: string,
): Promise<string | undefined> {
  let current = root;
  for (const segment of segments) {
    const next = join(current, segment);
    for (let attempt = 0; ; attempt++) {
      let stats: Stats;
      try {
        stats = await lstat(next);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
        if (mode === 'lookup') return undefined;
        await makeDirectory(next, name);
        // Re-check what is there now: another writer may have raced us, with a directory or a symlink.
        if (attempt < 3) continue;
        throw error;
      }
      if (stats.isSymbolicLink()) throw pathEscape(name);
      if (!stats.isDirectory()) {
        if (mode === 'lookup') return undefined;
        throw new MultiTenantError('PATH_INVALID', `${name}: a part of this name is an existing file, not a directory.`, {
          details: { name },
        });
      }
      break;
    }
    current = next;
  }
  if (segments.length > 0 && !isInside(root, await realpath(current))) throw pathEscape(name);
  return current;
}

// Linux (and most Unix) name an open descriptor's real path under /proc/self/fd; where that is
// unavailable the lstat walk and O_NOFOLLOW are the protection.
let procFd = process.platform === 'linux';

/**
 * Checks, after opening, that the file behind `file` really is under `root`: closes the window
 * between the lstat walk and the open in which a directory could be swapped for a symlink.
 */
export async function assertOpenedInside(file: FileHandle, root: string, name: string): Promise<void> {
  if (!procFd) return;
  let target: string;
  try {
    target = await readlink(`/proc/self/fd/${file.fd}`);
  } catch {
    procFd = false;
    return;
  }
  if (!isInside(root, target)) throw pathEscape(name);
}

/**
 * Opens `path` with `O_NOFOLLOW` added to `flags`: a symlink at the leaf throws `PATH_ESCAPE`
 * instead of being followed. Other errors are thrown unchanged.
 */
export async function openNoFollow(path: string, flags: number, name: string, mode?: number): Promise<FileHandle> {
  try {
    return await open(path, flags | constants.O_NOFOLLOW, mode);
  } catch (error) {
    // ELOOP on Linux and macOS, EMLINK on FreeBSD: the leaf is a symlink.
    if (errnoCode(error) === 'ELOOP' || errnoCode(error) === 'EMLINK') throw pathEscape(name);
    throw error;
  }
}
