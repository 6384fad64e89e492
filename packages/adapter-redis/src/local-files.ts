import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';
import { isValidWorkspacePath } from '@openclaw-mt/core/contracts';
import { type StagedFile, stageFileAtomic } from '@openclaw-mt/core/helpers';

/*
 * File I/O inside one tenant's local directory. Names are already accepted by `assertWorkspacePath`
 * (relative, no `..`, no hidden parts); what remains is what a child process running in the directory
 * could plant: symlinks. Every parent is checked with lstat and created without following links, the
 * last component is opened with O_NOFOLLOW, dirs are 0700 and files 0600 whatever the umask.
 */

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

function pathEscape(name: string): MultiTenantError {
  return new MultiTenantError('PATH_ESCAPE', `${name}: a symbolic link is in the way; refusing to follow it.`, { details: { name } });
}

function inTheWay(name: string, what: string): MultiTenantError {
  return new MultiTenantError('PATH_INVALID', `${name}: ${what} is in the way.`, { details: { name } });
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Creates `dir` (absolute) with mode 0700 if missing; refuses anything that is not a real directory. */
export async function ensureDirectory(dir: string, what = dir): Promise<void> {
  const check = async (): Promise<boolean> => {
    const stats = await lstat(dir);
    if (stats.isSymbolicLink()) throw pathEscape(what);
    if (!stats.isDirectory()) throw inTheWay(what, 'a file where a directory belongs');
    return true;
  };
  try {
    if (await check()) return;
  } catch (error) {
    if (code(error) !== 'ENOENT') throw error;
  }
  try {
    await mkdir(dir, { mode: DIR_MODE });
  } catch (error) {
    if (code(error) !== 'EEXIST') throw error;
    await check();
  }
  await chmod(dir, DIR_MODE);
}

/**
 * Walks the parents of `name` under `root`: creates missing ones (0700) when `create`, else returns
 * `undefined` as soon as one is missing. Returns the absolute parent directory.
 */
async function parentOf(root: string, name: string, create: boolean): Promise<string | undefined> {
  const parts = name.split('/');
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    if (create) {
      await ensureDirectory(dir, name);
      continue;
    }
    try {
      const stats = await lstat(dir);
      if (!stats.isDirectory()) {
        if (stats.isSymbolicLink()) throw pathEscape(name);
        return undefined;
      }
    } catch (error) {
      if (code(error) === 'ENOENT') return undefined;
      throw error;
    }
  }
  return dir;
}

function leaf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * Makes sure `name` can be written: creates its parents (0700, no links followed) and checks that no
 * directory sits where the file goes. Returns the parent directory. Called before Redis is touched,
 * so a name that cannot exist on disk is refused before it exists anywhere.
 */
export async function preparePath(root: string, name: string): Promise<string> {
  const parent = (await parentOf(root, name, true))!;
  try {
    if ((await lstat(join(parent, leaf(name)))).isDirectory()) throw inTheWay(name, 'a directory of that name');
  } catch (error) {
    if (code(error) !== 'ENOENT') throw error;
  }
  return parent;
}

/**
 * Writes `data` to a temporary file beside `name` (hidden, so scans skip it), to be moved into place
 * with `commit()`. No fsync: the local copy is a cache of Redis, which is the durable copy.
 */
export async function stageFile(root: string, name: string, data: Uint8Array): Promise<StagedFile> {
  const parent = await preparePath(root, name);
  const staged = await stageFileAtomic(join(parent, leaf(name)), data, { durable: false });
  return {
    async commit() {
      try {
        await staged.commit();
      } catch (error) {
        if (code(error) === 'EISDIR' || code(error) === 'ENOTDIR') throw inTheWay(name, 'a directory of that name');
        throw error;
      }
    },
    discard: () => staged.discard(),
  };
}

/** Writes a file atomically. */
export async function writeLocalFile(root: string, name: string, data: Uint8Array): Promise<void> {
  await (await stageFile(root, name, data)).commit();
}

/** Appends to a file (creating it 0600), never through a symlink. */
export async function appendLocalFile(root: string, name: string, data: Uint8Array): Promise<void> {
  const parent = (await parentOf(root, name, true))!;
  let handle: FileHandle;
  try {
    handle = await open(
      join(parent, leaf(name)),
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      FILE_MODE,
    );
  } catch (error) {
    if (code(error) === 'ELOOP') throw pathEscape(name);
    if (code(error) === 'EISDIR') throw inTheWay(name, 'a directory of that name');
    throw error;
  }
  try {
    await handle.chmod(FILE_MODE);
    await handle.write(data);
  } finally {
    await handle.close();
  }
}

/** A file's bytes, or `undefined` when it does not exist (or is not a regular file). */
export async function readLocalFile(root: string, name: string): Promise<Uint8Array | undefined> {
  const parent = await parentOf(root, name, false);
  if (parent === undefined) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(join(parent, leaf(name)), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (code(error) === 'ENOENT' || code(error) === 'EISDIR') return undefined;
    if (code(error) === 'ELOOP') throw pathEscape(name);
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return new Uint8Array(await handle.readFile());
  } finally {
    await handle.close();
  }
}

/** A regular file's stats (nanosecond times), or `undefined` when missing or not a regular file. */
export async function statLocalFile(root: string, name: string): Promise<BigIntStats | undefined> {
  const parent = await parentOf(root, name, false);
  if (parent === undefined) return undefined;
  try {
    const stats = await lstat(join(parent, leaf(name)), { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Deletes a file; returns whether it existed. Never follows a symlink (it unlinks the link itself). */
export async function removeLocalFile(root: string, name: string): Promise<boolean> {
  const parent = await parentOf(root, name, false);
  if (parent === undefined) return false;
  try {
    const stats = await lstat(join(parent, leaf(name)));
    if (stats.isDirectory()) return false;
    await unlink(join(parent, leaf(name)));
    return true;
  } catch (error) {
    if (code(error) === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Every regular file under `root` whose relative name is an acceptable workspace name, with its
 * stats. Symlinks are skipped (never followed) and so are hidden entries (temp files, dotfiles):
 * those stay node-local.
 */
export async function scanLocalFiles(root: string): Promise<Map<string, BigIntStats>> {
  const found = new Map<string, BigIntStats>();
  async function walk(dir: string, prefix: string, depth: number): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (depth < 16) await walk(join(dir, entry.name), name, depth + 1);
        continue;
      }
      if (!entry.isFile() || !isValidWorkspacePath(name)) continue;
      try {
        const stats = await lstat(join(dir, entry.name), { bigint: true });
        if (stats.isFile()) found.set(name, stats);
      } catch (error) {
        if (code(error) !== 'ENOENT') throw error;
      }
    }
  }
  await walk(root, '', 1);
  return found;
}

/** Deletes a directory tree (links inside are removed, not followed). */
export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
