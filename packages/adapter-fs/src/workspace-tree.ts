import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidWorkspacePath } from '@openclaw-mt/core/contracts';
import type { WorkspaceFileInfo } from '@openclaw-mt/core';
import { errnoCode } from './storage-error.js';
import { removeAbandonedTempFiles } from '@openclaw-mt/core/helpers';

/** Options for {@link listTree}. */
export interface ListTreeOptions {
  /** Also remove abandoned temp files in every directory visited. */
  sweep?: boolean;
}

/**
 * Every regular file under `dir` whose name (`prefix` + relative path) is an acceptable workspace
 * file name, sorted by name. Never follows symlinks and skips anything a name could not reach:
 * hidden entries (temp files, the adapter's meta dir, `.git`), symlinks, sockets, odd characters.
 */
export async function listTree(dir: string, prefix: string, options: ListTreeOptions = {}): Promise<WorkspaceFileInfo[]> {
  const out: WorkspaceFileInfo[] = [];
  await walk(dir, prefix, out, options);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function walk(dir: string, prefix: string, out: WorkspaceFileInfo[], options: ListTreeOptions): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    // Removed while we walked, or replaced by a file: nothing to list there.
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return;
    throw error;
  }
  if (options.sweep) await removeAbandonedTempFiles(dir);
  for (const entry of names) {
    const name = prefix === '' ? entry : `${prefix}/${entry}`;
    if (!isValidWorkspacePath(name)) continue;
    const path = join(dir, entry);
    let stats: Stats;
    try {
      stats = await lstat(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    if (stats.isDirectory()) await walk(path, name, out, options);
    else if (stats.isFile()) out.push({ name, size: stats.size, modifiedAt: Math.floor(stats.mtimeMs) });
  }
}
