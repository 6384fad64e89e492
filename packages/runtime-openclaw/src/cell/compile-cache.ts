import { chmod, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installKey } from '../install/install-key.js';
import { askGroupToStop } from '../os/process-table.js';
import type { CellSettings } from './cell.js';
import { withTenantlessGateway } from './tenantless-gateway.js';

/**
 * The install's compile cache, shared by every sandboxed cell: what V8 compiled while a tenantless gateway
 * started, recorded once per install by the gateway's own user and mounted read-only in every sandbox. A
 * cell's main thread and its worker threads then start from compiled code instead of parsing OpenClaw's
 * bundles again (its SQLite worker alone is a 48 MB file), and no tenant keeps a copy of its own.
 */
export interface CompileCache {
  /** Host directory holding one directory per tag. */
  dir: string;
  /** Node's names for its cache directories without their user suffix (`v24.21.0-x64-964aae3f`): one per set of V8 flags. */
  tags: readonly string[];
}

/** The shared compile cache as the runtime records it: `current` once recorded; `recorded` settles then (`undefined` if it failed). */
export interface CompileCacheState {
  current?: CompileCache;
  recorded: Promise<CompileCache | undefined>;
}

/** Node names a cache directory `v<node>-<arch>-<flags hash>-<uid>`; the tag is all but the uid. */
const TAG = /^v\d+\.\d+\.\d+-[a-z0-9_]+-[0-9a-f]+$/;

/** The install's compile cache kept in `dir`, recorded first when there is none. `signal` ends a recording under way. */
export async function sharedCompileCache(settings: CellSettings, dir: string, signal: AbortSignal): Promise<CompileCache> {
  const key = installKey(settings.install);
  const kept = join(dir, key);
  const tags = await recordedTags(kept);
  if (tags !== undefined && tags.length > 0) return { dir: kept, tags };
  await rm(kept, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const partial = join(dir, `${key}.partial`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { mode: 0o755 });
  await withTenantlessGateway(
    settings,
    join(dir, `record-${key}`),
    signal,
    { compileCache: 'record' },
    async ({ slot, child, exited, output }) => {
      // Node writes what each thread compiled when it ends: OpenClaw stops on SIGTERM and ends its workers first.
      await askGroupToStop(child.pid!, true);
      const stopped = await Promise.race([exited.then(() => true), sleep(settings.stopTimeoutMs, false, { signal })]);
      if (!stopped)
        throw new Error(`the gateway recording the compile cache did not stop within ${settings.stopTimeoutMs} ms:\n${output()}`);
      const written = join(slot.runDir, 'compile-cache');
      const suffix = `-${process.getuid?.() ?? 0}`;
      for (const name of await readdir(written)) {
        const tag = name.endsWith(suffix) ? name.slice(0, -suffix.length) : '';
        // A thread that compiled nothing leaves an empty directory.
        if (!TAG.test(tag) || (await readdir(join(written, name))).length === 0) continue;
        // Copied, not moved: the slot is a mount of its own.
        await cp(join(written, name), join(partial, tag), { recursive: true });
        await readableByAll(join(partial, tag));
      }
    },
  );
  if ((await recordedTags(partial))?.length === 0) throw new Error('the gateway recording the compile cache wrote none');
  await rename(partial, kept);
  return { dir: kept, tags: (await recordedTags(kept))! };
}

/** The tags recorded in `dir`; `undefined` when it does not exist. */
async function recordedTags(dir: string): Promise<string[] | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const tags: string[] = [];
  for (const name of names) if (TAG.test(name) && (await stat(join(dir, name))).isDirectory()) tags.push(name);
  return tags;
}

/** Every cell's user reads the cache; only the gateway's writes it. */
async function readableByAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) await chmod(join(dir, name), 0o644);
}
