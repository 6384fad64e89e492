import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TenantUser } from '../os/tenant-user.js';
import type { SandboxSupport } from './sandbox-support.js';

/** Where the cell's run directory appears inside its sandbox. */
export const SANDBOX_RUN_DIR = '/run/openclaw-mt';
/**
 * Where a tenant's root appears inside its sandbox: every cell sees its directories at the same paths
 * (`/tenant/workspace`, `/tenant/agent`), whichever host directory holds them, so a pre-booted cell can
 * become any tenant's and nothing OpenClaw records names the host's layout.
 */
export const SANDBOX_TENANT_ROOT = '/tenant';
/** Where the install's shared compile cache appears inside a sandbox (read-only). */
export const SANDBOX_COMPILE_CACHE = '/opt/openclaw-mt/compile-cache';
/** Where the relay script appears inside a sandbox. */
export const SANDBOX_RELAY_PATH = '/opt/openclaw-mt/cell-relay.mjs';

/** Which network a sandboxed cell has. */
export type CellEgress = 'none' | 'host';

/** Everything a cell's sandbox is made of. */
export interface SandboxSpec {
  support: SandboxSupport;
  /** The OpenClaw install (with its Node), mounted read-only at the same path. */
  installDir: string;
  /** The tenant's own directories, mounted read-write (`source` on the host at `dest` inside). */
  writableDirs: readonly { source: string; dest: string }[];
  /** The gateway's run directory of this cell (sockets, passwd), mounted at {@link SANDBOX_RUN_DIR}. */
  runDir: string;
  /** Host path of the relay script, mounted read-only at {@link SANDBOX_RELAY_PATH}. */
  relayPath: string;
  /** `none`: own network namespace with only loopback; `host`: the host's network. */
  egress: CellEgress;
  /** Run as this user inside (the gateway runs as root); absent: as the gateway's own user. */
  user?: TenantUser;
  /**
   * A primed process: it starts as root keeping only `CAP_SETUID`/`CAP_SETGID`, and becomes the tenant's
   * user itself when a tenant takes it (see the relay). Without `user`, and only as root.
   */
  switchesUser?: boolean;
  workdir: string;
  /** Host directory of the install's compile cache, mounted read-only at {@link SANDBOX_COMPILE_CACHE}. */
  compileCacheDir?: string;
  /** Files of the install that appear empty inside (`/dev/null` over them, read-only); the install itself is untouched. */
  emptiedFiles?: readonly string[];
}

// Host files a Node program and TLS need: name resolution, time zone, CA certificates (and the
// alternatives links some binaries resolve through). Not /etc as a whole: no shadow, no host config.
const ETC_FILES = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/localtime',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/alternatives',
];
const TOP_LEVEL_SYSTEM = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * Mount arguments in order. bwrap makes missing parents of a mount point mode 0700 (root's), which a
 * tenant's user could not pass: every parent is made 0755 first, unless a mount already holds it.
 */
class Mounts {
  /** Directories that exist in the sandbox: made, mounted on, or bound from the host with all below them. */
  private readonly made = new Set<string>(['/']);
  private readonly trees: string[] = [];

  constructor(private readonly args: string[]) {}

  private exists(path: string): boolean {
    return this.made.has(path) || this.trees.some((tree) => path === tree || path.startsWith(`${tree}/`));
  }

  private parents(path: string): void {
    const missing: string[] = [];
    for (let at = dirname(path); !this.exists(at); at = dirname(at)) missing.unshift(at);
    for (const dir of missing) {
      this.args.push('--perms', '0755', '--dir', dir);
      this.made.add(dir);
    }
  }

  add(kind: string, source: string | undefined, dest: string, perms?: string): void {
    this.parents(dest);
    if (perms !== undefined) this.args.push('--perms', perms);
    this.args.push(kind, ...(source === undefined ? [] : [source]), dest);
    this.made.add(dest);
    if (kind.endsWith('bind') && source !== undefined && lstatSync(source).isDirectory()) this.trees.push(dest);
  }

  /** The system: /usr and the top-level links or directories into it, and the few /etc files Node and TLS need. */
  system(): void {
    this.add('--ro-bind', '/usr', '/usr');
    for (const path of TOP_LEVEL_SYSTEM) {
      let info: ReturnType<typeof lstatSync>;
      try {
        info = lstatSync(path);
      } catch {
        continue;
      }
      if (info.isSymbolicLink()) {
        this.args.push('--symlink', readlinkSync(path), path);
        this.made.add(path);
      } else if (info.isDirectory()) this.add('--ro-bind', path, path);
    }
    for (const path of ETC_FILES) if (existsSync(path)) this.add('--ro-bind', path, path);
  }
}

/**
 * The bubblewrap command line that runs `command` in a cell's sandbox: its own mount namespace
 * holding only the system (read-only), the OpenClaw install (read-only), the tenant's own
 * directories (read-write), a private `/tmp`, its own `/proc` of its own PID namespace, its own
 * IPC and UTS namespaces and, unless egress is `host`, its own network namespace. As root it then
 * drops to the tenant's user with no capabilities (`setpriv`). Dies with the gateway.
 */
export function sandboxCommand(spec: SandboxSpec, command: readonly string[]): { file: string; args: string[] } {
  const { support } = spec;
  if (!support.available || support.bwrapPath === undefined) throw new Error('sandboxCommand: the sandbox is not available');
  const args = [
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(spec.egress === 'none' ? ['--unshare-net'] : []),
    '--hostname',
    'openclaw-cell',
  ];
  const mounts = new Mounts(args);
  mounts.system();
  // Links into the run directory, not copies of its files: a primed process's run directory is replaced
  // (mounted over) when a tenant takes it, and its accounts with it.
  mounts.add('--symlink', `${SANDBOX_RUN_DIR}/etc/passwd`, '/etc/passwd');
  mounts.add('--symlink', `${SANDBOX_RUN_DIR}/etc/group`, '/etc/group');
  mounts.add('--proc', undefined, '/proc');
  mounts.add('--dev', undefined, '/dev');
  mounts.add('--tmpfs', undefined, '/tmp', '1777');
  mounts.add('--tmpfs', undefined, '/run');
  mounts.add('--bind', spec.runDir, SANDBOX_RUN_DIR);
  mounts.add('--ro-bind', spec.installDir, spec.installDir);
  for (const file of spec.emptiedFiles ?? []) mounts.add('--ro-bind', '/dev/null', file);
  mounts.add('--ro-bind', spec.relayPath, SANDBOX_RELAY_PATH);
  if (spec.compileCacheDir !== undefined) mounts.add('--ro-bind', spec.compileCacheDir, SANDBOX_COMPILE_CACHE);
  for (const { source, dest } of spec.writableDirs) mounts.add('--bind', source, dest);
  args.push('--chdir', spec.workdir, '--');
  if (support.setprivPath !== undefined) {
    // Root outside: become the tenant (or stay uid 0 without any capability when per-tenant users are off).
    args.push(support.setprivPath);
    if (spec.user !== undefined) args.push('--reuid', String(spec.user.uid), '--regid', String(spec.user.gid), '--clear-groups');
    args.push(
      '--inh-caps=-all',
      spec.switchesUser === true && spec.user === undefined ? '--bounding-set=-all,+setuid,+setgid' : '--bounding-set=-all',
      '--',
    );
  }
  args.push(...command);
  return { file: support.bwrapPath, args };
}
