import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hasGnuTool, runTool } from '@openclaw-mt/core/helpers';

/** What a directory tree occupies, with the part under regenerable cache directories told apart. */
export interface TreeDiskUsage {
  /** Every allocated byte of the tree. */
  totalBytes: number;
  /** The bytes under the cache directories (included in `totalBytes`). */
  cacheBytes: number;
}

/**
 * Bytes a directory tree occupies on disk (allocated blocks, like `du`), without following symbolic
 * links; hard links are counted once. Entries that vanish or cannot be read while walking are skipped:
 * a tenant's agent may be writing and deleting files at the same time. Bytes under `cacheDirs`
 * (absolute paths inside the tree) are also reported on their own.
 */
export async function treeDiskUsage(root: string, cacheDirs: readonly string[] = []): Promise<TreeDiskUsage> {
  return ((await hasGnuTool('du')) ? await duTreeUsage(root, cacheDirs) : undefined) ?? walkTreeDiskUsage(root, cacheDirs);
}

/**
 * {@link treeDiskUsage} by GNU `du`, which walks in one process: on a tree of 50,000 files 90 ms against
 * 1.8 s for the walk in Node (one thread-pool round trip per entry), and every running cell is measured
 * every 30 s. The caches are listed before the root: `du` counts an inode once, so the root's figure is
 * what the caches left. `undefined` when `du` gave no figure for the root (the caller walks instead).
 */
export async function duTreeUsage(root: string, cacheDirs: readonly string[]): Promise<TreeDiskUsage | undefined> {
  // Only caches strictly inside the tree, each once, none inside another (as the walk would see them).
  const caches = [...new Set(cacheDirs)].filter((dir) => dir.startsWith(`${root}/`));
  if (caches.some((dir) => caches.some((other) => dir.startsWith(`${other}/`)))) return undefined;
  let stdout: Buffer;
  try {
    ({ stdout } = await runTool('du', ['--summarize', '--block-size=1', '--null', '--', ...caches, root]));
  } catch {
    return undefined;
  }
  const figures = new Map<string, number>();
  for (const record of stdout.toString('utf8').split('\0')) {
    const tab = record.indexOf('\t');
    if (tab > 0) figures.set(record.slice(tab + 1), Number(record.slice(0, tab)));
  }
  const rest = figures.get(root);
  if (rest === undefined || !Number.isSafeInteger(rest)) return undefined;
  const cacheBytes = caches.reduce((sum, dir) => sum + (figures.get(dir) ?? 0), 0);
  return { totalBytes: rest + cacheBytes, cacheBytes };
}

/** {@link treeDiskUsage} walked in Node: where GNU `du` is missing. */
export async function walkTreeDiskUsage(root: string, cacheDirs: readonly string[] = []): Promise<TreeDiskUsage> {
  const caches = new Set(cacheDirs);
  const seen = new Set<string>();
  const usage: TreeDiskUsage = { totalBytes: 0, cacheBytes: 0 };
  const pending: Array<{ path: string; cache: boolean }> = [{ path: root, cache: caches.has(root) }];
  while (pending.length > 0) {
    const { path, cache } = pending.pop()!;
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(path, { bigint: false });
    } catch {
      continue;
    }
    const identity = `${info.dev}:${info.ino}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const bytes = info.blocks * 512;
    usage.totalBytes += bytes;
    if (cache) usage.cacheBytes += bytes;
    if (!info.isDirectory()) continue;
    try {
      for (const name of await readdir(path)) {
        const child = join(path, name);
        pending.push({ path: child, cache: cache || caches.has(child) });
      }
    } catch {
      // Unreadable directory: its own blocks are counted, its contents are not.
    }
  }
  return usage;
}

/** Bytes a directory tree occupies on disk (see {@link treeDiskUsage}). */
export async function diskUsage(root: string): Promise<number> {
  return (await treeDiskUsage(root)).totalBytes;
}
