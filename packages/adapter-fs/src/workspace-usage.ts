import { dirname, join } from 'node:path';
import { isValidWorkspacePath, MAX_PATH_DEPTH } from '@openclaw-mt/core/contracts';
import { hasGnuTool, removeAbandonedTempFiles, runTool } from '@openclaw-mt/core/helpers';
import { listTree } from './workspace-tree.js';

/** Options for {@link workspaceBytes}. */
export interface WorkspaceBytesOptions {
  /** Also remove abandoned temp files in every directory a listing would visit. */
  sweep?: boolean;
}

/**
 * The bytes of the files {@link listTree} lists under `root` (what the workspace quota counts). It runs
 * at every activation: on a workspace of 20,000 files the walk in Node took ~0.7 s, GNU `find` (one
 * process) ~0.05 s, so `find` is used where present and the walk elsewhere.
 */
export async function workspaceBytes(root: string, options: WorkspaceBytesOptions = {}): Promise<number> {
  const found = (await hasGnuTool('find')) ? await workspaceBytesByFind(root, options) : undefined;
  if (found !== undefined) return found;
  return (await listTree(root, '', options)).reduce((sum, file) => sum + file.size, 0);
}

/**
 * {@link workspaceBytes} by GNU `find`; `undefined` when it did not list the whole tree (an entry it could
 * not read, say), so the caller walks it instead. Hidden entries are pruned, as no name reaches them, except
 * the store's temp files, which tell the directories to sweep.
 */
export async function workspaceBytesByFind(root: string, options: WorkspaceBytesOptions = {}): Promise<number | undefined> {
  let listing: Awaited<ReturnType<typeof runTool>>;
  try {
    listing = await runTool(
      'find',
      [
        '.',
        '-mindepth',
        '1',
        // One level below the deepest name: the walk sweeps temp files in the deepest directories too.
        '-maxdepth',
        String(MAX_PATH_DEPTH + 1),
        '(',
        '-name',
        '.ocmt-*.tmp',
        '-type',
        'f',
        '-printf',
        't %P\\0',
        ')',
        '-o',
        '(',
        '-name',
        '.*',
        '-prune',
        ')',
        '-o',
        '(',
        '-type',
        'f',
        '-printf',
        'f %s %P\\0',
        ')',
      ],
      { cwd: root },
    );
  } catch {
    return undefined;
  }
  if (listing.code !== 0) return undefined;
  let bytes = 0;
  const sweep = new Set<string>();
  for (const record of listing.stdout.toString('utf8').split('\0')) {
    if (record.startsWith('f ')) {
      const space = record.indexOf(' ', 2);
      if (isValidWorkspacePath(record.slice(space + 1))) bytes += Number(record.slice(2, space));
    } else if (record.startsWith('t ') && options.sweep) {
      // The walk sweeps the root and every directory a name reaches.
      const parent = dirname(record.slice(2));
      if (parent === '.' || isValidWorkspacePath(parent)) sweep.add(join(root, parent));
    }
  }
  for (const dir of sweep) await removeAbandonedTempFiles(dir);
  return bytes;
}
