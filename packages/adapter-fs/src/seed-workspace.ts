import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WORKSPACE_DIRECTORIES, type TemplateManifest, type WorkspaceTemplate } from '@openclaw-mt/core/contracts';
import { DIRECTORY_MODE, FILE_MODE, META_DIR } from './permissions.js';
import { errnoCode } from './storage-error.js';
import { isProcessAlive, syncDirectory } from '@openclaw-mt/core/helpers';

/** Prefix of a workspace being assembled (`.seed-<pid>-<random>`); such directories are never tenant roots. */
export const SEED_PREFIX = '.seed-';

/** Staging directories older than this are swept even if their pid looks alive (pids get reused). */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/**
 * Whether a staging directory was left by a seeder that is gone (a crash mid-seed), so it may be
 * swept. A live process's staging directory is in use: sweeping it would break that seeding.
 */
export function isAbandonedSeed(name: string, modifiedAtMs: number, now = Date.now()): boolean {
  const match = /^\.seed-(\d{1,10})-[0-9a-f]{16}$/.exec(name);
  if (match === null || now - modifiedAtMs > ABANDONED_AFTER_MS) return true;
  return !isProcessAlive(Number(match[1]));
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** What a freshly seeded workspace is, so opening it needs no second look. */
export interface SeededWorkspace {
  dev: number;
  ino: number;
  /** Path of the incarnation marker. */
  marker: string;
  /** Bytes of tenant-visible files (the template's). */
  usage: number;
}

async function writeNewFile(path: string, data: Uint8Array, exactMode: boolean): Promise<void> {
  const file = await open(path, CREATE, FILE_MODE);
  try {
    if (!exactMode) await file.chmod(FILE_MODE);
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Creates a tenant's workspace from the template in one step: the whole tree (directories, template
 * files, manifest, incarnation marker) is assembled in a hidden staging directory — files written and
 * fsynced in parallel, so one journal commit covers them — then renamed into place. Other processes
 * see no workspace or a complete one, never a partial one; a crash leaves only a staging directory,
 * swept later. Returns `undefined` when the workspace already exists (open it the usual way then).
 */
export async function seedWorkspace(
  root: string,
  dirName: string,
  template: WorkspaceTemplate,
  manifest: TemplateManifest,
): Promise<SeededWorkspace | undefined> {
  const staging = join(root, `${SEED_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`);
  const markerName = `incarnation-${randomBytes(8).toString('hex')}`;
  let placed = false;
  try {
    const leaves = [...WORKSPACE_DIRECTORIES, META_DIR, ...[...template.files.keys()].map((name) => dirname(name))];
    const directories = [...new Set(leaves.map((dir) => join(staging, dir)))];
    await mkdir(staging, { mode: DIRECTORY_MODE });
    const stats = await lstat(staging);
    // The umask only ever clears bits. When it left the staging directory at exactly 0700 it clears
    // no owner bit, so everything created below gets its exact mode without a chmod each.
    const exactMode = (stats.mode & 0o777) === DIRECTORY_MODE;
    // Recursive mkdirs tolerate each other's shared parents, so they can all run at once.
    await Promise.all(directories.map((dir) => mkdir(dir, { recursive: true, mode: DIRECTORY_MODE })));
    const all = [...new Set(directories.flatMap((dir) => ancestorsWithin(staging, dir)))];
    if (!exactMode) await Promise.all(all.map((dir) => chmod(dir, DIRECTORY_MODE)));
    const encoder = new TextEncoder();
    await Promise.all([
      ...[...template.files].map(([name, content]) => writeNewFile(join(staging, name), content, exactMode)),
      writeNewFile(join(staging, META_DIR, 'template.json'), encoder.encode(`${JSON.stringify(manifest)}\n`), exactMode),
      writeNewFile(join(staging, META_DIR, markerName), new Uint8Array(), exactMode),
    ]);
    await Promise.all(all.map((dir) => syncDirectory(dir)));
    try {
      await rename(staging, join(root, dirName));
      placed = true;
    } catch (error) {
      // Someone else created it first (another process or call): theirs stands.
      if (['EEXIST', 'ENOTEMPTY', 'EISDIR'].includes(errnoCode(error) ?? '')) return undefined;
      throw error;
    }
    await syncDirectory(root);
    let usage = 0;
    for (const content of template.files.values()) usage += content.byteLength;
    return { dev: stats.dev, ino: stats.ino, marker: join(root, dirName, META_DIR, markerName), usage };
  } finally {
    if (!placed) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** `dir` and each of its ancestors strictly below `top`, plus `top` itself. */
function ancestorsWithin(top: string, dir: string): string[] {
  const out = [top];
  for (let current = dir; current.length > top.length; current = dirname(current)) out.push(current);
  return out;
}
