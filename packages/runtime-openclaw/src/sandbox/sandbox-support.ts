import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether cells can run in a bubblewrap sandbox on this host, and why not. */
export interface SandboxSupport {
  available: boolean;
  /** The `bwrap` executable found on PATH. */
  bwrapPath?: string;
  /** The `setpriv` executable (root only: drops to the tenant's user inside the sandbox). */
  setprivPath?: string;
  /** What is missing, for the operator (absent when available). */
  reason?: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let cached: SandboxSupport | undefined;

/**
 * Probes once per process: finds `bwrap` (and, as root, `setpriv`) and starts `/bin/true` in fresh
 * mount, PID, network, IPC and UTS namespaces — the ones every cell gets. A kernel or container that
 * refuses any of them makes the sandbox unavailable, with the reason bwrap gave.
 */
export function sandboxSupport(): SandboxSupport {
  if (cached !== undefined) return cached;
  cached = probe();
  return cached;
}

function probe(): SandboxSupport {
  if (process.platform !== 'linux') return { available: false, reason: 'the sandbox needs Linux namespaces' };
  const bwrapPath = onPath('bwrap');
  if (bwrapPath === undefined)
    return { available: false, reason: 'bwrap (bubblewrap) is not on PATH; install it (apt-get install bubblewrap)' };
  const asRoot = process.getuid?.() === 0;
  const setprivPath = asRoot ? onPath('setpriv') : undefined;
  if (asRoot && setprivPath === undefined) return { available: false, bwrapPath, reason: 'setpriv (util-linux) is not on PATH' };
  const trial = spawnSync(
    bwrapPath,
    [
      '--ro-bind',
      '/',
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--unshare-pid',
      '--unshare-net',
      '--unshare-ipc',
      '--unshare-uts',
      '--',
      'true',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (trial.status !== 0) {
    const said = (trial.stderr ?? '').trim().split('\n')[0] || trial.error?.message || `exit ${String(trial.status)}`;
    return { available: false, bwrapPath, reason: `the kernel refused new namespaces (bwrap: ${said})` };
  }
  return { available: true, bwrapPath, ...(setprivPath === undefined ? {} : { setprivPath }) };
}
