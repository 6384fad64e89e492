import { hash } from 'node:crypto';
import { chmod, chown, mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompileCache } from '../cell/compile-cache.js';
import type { TenantUser } from '../os/tenant-user.js';
import { SANDBOX_COMPILE_CACHE, SANDBOX_RUN_DIR } from './sandbox-command.js';

/** The gateway's directory for one sandboxed cell: the sockets joining it to the host, and its passwd. */
export interface CellRunDir {
  /** On the host. */
  dir: string;
  /** Where the cell's relay listens for the front door (host path; the relay's is {@link insideGatewaySocket}). */
  gatewaySocket: string;
  /** Where the model gateway listens for this tenant only (host path). */
  modelSocket: string;
}

/** The gateway socket's path inside the sandbox. */
export const insideGatewaySocket = `${SANDBOX_RUN_DIR}/cell/gateway.sock`;
/** The model socket's path inside the sandbox. */
export const insideModelSocket = `${SANDBOX_RUN_DIR}/models.sock`;
/** Node's compile cache directory inside the sandbox (`NODE_COMPILE_CACHE`): links to the shared cache, or a recording's own. */
export const insideCompileCacheLinks = `${SANDBOX_RUN_DIR}/compile-cache`;

/**
 * The base of run directories: `/run/openclaw-mt` as root, else a per-user directory in the temp
 * directory. Short on purpose: Unix socket paths are limited to 107 bytes.
 */
export function runDirBase(): string {
  return process.getuid?.() === 0 ? '/run/openclaw-mt' : join(tmpdir(), `openclaw-mt-${process.getuid?.() ?? 'user'}`);
}

/**
 * Creates a fresh run directory for the cell of the tenant root `root` (named by a hash of the root's
 * real path, so two gateways on one host never share one): root-owned and traversable, with `cell/`
 * owned by the tenant's user (the relay creates its socket there) and a passwd/group naming only
 * root, the tenant's user and nobody.
 */
export async function createCellRunDir(root: string, user: TenantUser | undefined, compileCache?: CompileCache): Promise<CellRunDir> {
  const base = runDirBase();
  await mkdir(base, { recursive: true, mode: 0o711 });
  await chmod(base, 0o711);
  const dir = join(base, hash('sha256', await realpath(root), 'hex').slice(0, 16));
  await rm(dir, { recursive: true, force: true });
  await writeRunDir(dir, user, compileCache);
  return { dir, gatewaySocket: join(dir, 'cell', 'gateway.sock'), modelSocket: join(dir, 'models.sock') };
}

/**
 * Fills an empty (or missing) run directory: root-owned and traversable, `cell/` owned by the tenant's
 * user (the relay creates its socket there), a passwd/group naming only root, the user and nobody, and
 * `compile-cache/` (the gateway's: a recording writes there) linking to the shared compile cache when there is one.
 */
export async function writeRunDir(dir: string, user: TenantUser | undefined, compileCache?: CompileCache): Promise<void> {
  // Every mode set exactly: the umask filters what mkdir and writeFile ask for (an operator's 077 would hide the
  // passwd from the tenant's user).
  await mkdir(join(dir, 'etc'), { recursive: true, mode: 0o755 });
  await chmod(dir, 0o711);
  await chmod(join(dir, 'etc'), 0o755);
  await mkdir(join(dir, 'cell'), { mode: 0o700 });
  await chmod(join(dir, 'cell'), 0o700);
  const uid = user?.uid ?? process.getuid?.() ?? 0;
  const gid = user?.gid ?? process.getgid?.() ?? 0;
  if (user !== undefined) await chown(join(dir, 'cell'), user.uid, user.gid);
  const name = user?.name ?? 'openclaw';
  const passwd = [`root:x:0:0:root:/root:/usr/sbin/nologin`, `nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin`];
  const group = ['root:x:0:', 'nogroup:x:65534:'];
  if (uid !== 0) {
    passwd.push(`${name}:x:${uid}:${gid}:openclaw-mt tenant:/nonexistent:/usr/sbin/nologin`);
    group.push(`${name}:x:${gid}:`);
  }
  for (const [file, lines] of Object.entries({ passwd, group })) {
    await writeFile(join(dir, 'etc', file), `${lines.join('\n')}\n`, { mode: 0o644 });
    await chmod(join(dir, 'etc', file), 0o644);
  }
  await mkdir(join(dir, 'compile-cache'), { mode: 0o755 });
  await chmod(join(dir, 'compile-cache'), 0o755);
  // Node looks for its cache under its tag and the user it runs as: the tenant's, and the gateway's for a process
  // primed before its tenant came (its main thread keeps the directory it started with).
  for (const tag of compileCache?.tags ?? [])
    for (const id of new Set([uid, process.getuid?.() ?? 0]))
      await symlink(`${SANDBOX_COMPILE_CACHE}/${tag}`, join(dir, 'compile-cache', `${tag}-${id}`));
}

/** Removes a cell's run directory (after its process is gone). */
export async function removeCellRunDir(runDir: CellRunDir): Promise<void> {
  await rm(runDir.dir, { recursive: true, force: true });
}
