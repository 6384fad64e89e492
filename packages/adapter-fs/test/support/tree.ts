import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A raw snapshot of everything under `dir` (type, mode, size, mtime, content digest or link target),
 * keyed by relative path, for asserting that a refused call changed nothing on disk.
 */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const key = rel === '' ? name : `${rel}/${name}`;
      const stats = lstatSync(full);
      const base = `${(stats.mode & 0o7777).toString(8)} ${Math.floor(stats.mtimeMs)}`;
      if (stats.isSymbolicLink()) out[key] = `link ${readlinkSync(full)}`;
      else if (stats.isDirectory()) {
        out[key] = `dir ${base}`;
        walk(full, key);
      } else if (stats.isFile()) out[key] = `file ${base} ${stats.size} ${readFileSync(full).toString('base64')}`;
      else out[key] = `other ${base}`;
    }
  };
  walk(dir, '');
  return out;
}
