import { mkdir, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellPaths } from '../config/cell-config.js';

/** The journal a claim leaves in the slot while it moves files, naming where they belong. */
const JOURNAL = 'claim.json';

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function removeEmptyDir(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Whether a tenant's tree can take a pre-booted cell: it has no OpenClaw state yet (its state
 * directory is missing or empty), so the state the pre-booted cell made is all there is.
 */
export async function hasNoCellState(paths: CellPaths): Promise<boolean> {
  return (await entries(paths.stateDir)).length === 0;
}

/**
 * Throws `EXDEV` (and changes nothing) unless a file renames from the slot into the tenant's root:
 * a claim moves directories, which works only within one mount.
 */
export async function assertRenamable(slotRoot: string, tenantRoot: string): Promise<void> {
  await mkdir(tenantRoot, { recursive: true });
  const probe = join(slotRoot, '.openclaw-mt-warm-probe');
  const moved = join(tenantRoot, '.openclaw-mt-warm-probe');
  await writeFile(probe, '');
  try {
    await rename(probe, moved);
  } finally {
    await rm(probe, { force: true });
    await rm(moved, { force: true });
  }
}

/**
 * Makes a pre-booted cell's directories the tenant's, while the cell runs: the tenant's workspace
 * files move into the cell's workspace (emptied of the files OpenClaw wrote there at boot), then the
 * cell's workspace and state directories are renamed into the tenant's root. A sandbox binds
 * directories, not paths, so the cell keeps seeing them where it did. Every step is a rename on one
 * file system ({@link assertRenamable} first); a journal in the slot names the tenant's root until the
 * last one, so {@link recoverWarmTree} can put the tenant's files back after a crash.
 */
export async function moveWarmTree(slot: CellPaths, tenant: CellPaths): Promise<void> {
  await mkdir(tenant.root, { recursive: true });
  await writeFile(join(slot.root, JOURNAL), JSON.stringify({ root: tenant.root }));
  for (const name of await entries(slot.workspaceDir)) await rm(join(slot.workspaceDir, name), { recursive: true, force: true });
  for (const name of await entries(tenant.workspaceDir)) await rename(join(tenant.workspaceDir, name), join(slot.workspaceDir, name));
  await removeEmptyDir(tenant.workspaceDir);
  await rename(slot.workspaceDir, tenant.workspaceDir);
  await removeEmptyDir(tenant.stateDir);
  await rename(slot.stateDir, tenant.stateDir);
  await rm(join(slot.root, JOURNAL), { force: true });
  await removeEmptyDir(slot.root);
}

/**
 * After a claim that did not finish (the gateway died in it): moves the tenant's workspace files that
 * are still in the slot back to the tenant's workspace. Returns the tenant's root it repaired, if any.
 */
export async function recoverWarmTree(slot: CellPaths, tenantPaths: (root: string) => CellPaths): Promise<string | undefined> {
  let root: string;
  try {
    root = (JSON.parse(await readFile(join(slot.root, JOURNAL), 'utf8')) as { root: string }).root;
  } catch {
    return undefined;
  }
  const tenant = tenantPaths(root);
  const stranded = await entries(slot.workspaceDir);
  if (stranded.length > 0) {
    await mkdir(tenant.workspaceDir, { recursive: true });
    const present = new Set(await entries(tenant.workspaceDir));
    for (const name of stranded) if (!present.has(name)) await rename(join(slot.workspaceDir, name), join(tenant.workspaceDir, name));
  }
  await rm(join(slot.root, JOURNAL), { force: true });
  return root;
}
