import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

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
