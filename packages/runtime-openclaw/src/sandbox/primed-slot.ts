import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CompileCache } from '../cell/compile-cache.js';
import { writeRunDir } from './cell-run-dir.js';

const run = promisify(execFile);

/**
 * The placeholders a primed process's sandbox is built on: empty directories where a tenant's workspace,
 * state and run directory will appear. The slot is a shared mount (bound onto itself), so a directory the
 * host later mounts on a placeholder also appears in the sandbox that bound it (bubblewrap's mounts are
 * slaves of the host's): a process started before its tenant was known then sees that tenant's files.
 */
export interface PrimedSlot {
  root: string;
  workspaceDir: string;
  stateDir: string;
  runDir: string;
}

/** What a tenant's cell brings to a primed process: host directories mounted on the slot's placeholders. */
export interface TenantMounts {
  workspaceDir: string;
  stateDir: string;
  runDir: string;
}

function slotAt(root: string): PrimedSlot {
  return { root, workspaceDir: join(root, 'workspace'), stateDir: join(root, 'agent'), runDir: join(root, 'run') };
}

/** Creates the slot at `root` (as root): placeholders, a run directory naming no tenant, the shared mount. */
export async function createPrimedSlot(root: string, compileCache?: CompileCache): Promise<PrimedSlot> {
  const slot = slotAt(root);
  await removePrimedSlot(root);
  await mkdir(slot.workspaceDir, { recursive: true, mode: 0o755 });
  await mkdir(slot.stateDir, { mode: 0o755 });
  await writeRunDir(slot.runDir, undefined, compileCache);
  await run('mount', ['--bind', root, root]);
  await run('mount', ['--make-shared', root]);
  return slot;
}

/**
 * Mounts a tenant's directories on the slot's placeholders; the primed process sees them at once. Each
 * must be a directory itself, not a link to one (a tenant's link is never followed out of its tree).
 */
export async function mountTenant(slot: PrimedSlot, tenant: TenantMounts): Promise<void> {
  const pairs: [string, string][] = [
    [tenant.workspaceDir, slot.workspaceDir],
    [tenant.stateDir, slot.stateDir],
    [tenant.runDir, slot.runDir],
  ];
  for (const [source] of pairs) if (!(await lstat(source)).isDirectory()) throw new Error(`mountTenant: ${source} is not a directory`);
  for (const [source, target] of pairs) await run('mount', ['--bind', source, target]);
}

/** Mount points at or under `root`, deepest first (from `/proc/self/mountinfo`). */
export async function mountsUnder(root: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    // The kernel escapes space, tab, newline and backslash as octal.
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))))
    .filter((point) => point === root || point.startsWith(`${root}/`));
  return points.sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything at or under `root`, then removes it. Never removes a tree that still has a mount in
 * it (a tenant's directories would go with it): throws instead.
 */
export async function removePrimedSlot(root: string): Promise<void> {
  for (const point of await mountsUnder(root)) {
    try {
      await run('umount', [point]);
    } catch {
      // Busy: detached now, gone once nothing uses it (the sandbox that did is gone or going).
      await run('umount', ['--lazy', point]);
    }
  }
  const left = await mountsUnder(root);
  if (left.length > 0) throw new Error(`removePrimedSlot: ${left.length} mount(s) left under ${root}; not removing it`);
  await rm(root, { recursive: true, force: true });
}

/** Removes every slot under `dir` a previous process left (mounted or not). */
export async function removePrimedSlots(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  for (const name of await readdir(dir)) await removePrimedSlot(join(dir, name));
}
