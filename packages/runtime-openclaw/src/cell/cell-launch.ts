import { delimiter, dirname } from 'node:path';
import type { CellPaths } from '../config/cell-config.js';
import { HOOKS_TOKEN_ENV } from '../http-api/http-apis.js';
import type { OpenClawInstall } from '../install/runtime-install.js';
import type { TenantUser } from '../os/tenant-user.js';
import { insideCompileCacheLinks, insideGatewaySocket, insideModelSocket } from '../sandbox/cell-run-dir.js';
import { SANDBOX_RELAY_PATH, sandboxCommand } from '../sandbox/sandbox-command.js';
import type { CellSettings } from './cell.js';
import type { CompileCache } from './compile-cache.js';
import { insideModelPort, MODEL_KEY_ENV } from './cell-models.js';

/**
 * The line OpenClaw logs once its startup sidecars are done: from its `connect.challenge` until then (a second or
 * two) it refuses connections, retryable, asking for a retry after 500 ms.
 */
export const ACCEPTING_LINE = /\[gateway\] ready\s*$/;

// Cell environment: nothing of the gateway's own environment (it may hold the service token,
// peppers or Redis credentials) except what a Node program needs to run.
const PASSED_ENV = ['LANG', 'LC_ALL', 'TZ'];

/**
 * V8 heap limits for every cell unless the operator's `env` sets `NODE_OPTIONS`. OpenClaw's heap holds ~150 MB
 * live after start and grows with its agent and each conversation: 256 MB ran out of memory by a tenant's tenth
 * long chat turn; 512 MB held a hundred (measured). With the small semi-space an idle cell tree is ~740 MB (~860 without
 * limits); a sandboxed cell then takes ~70 MB off that with `optimizeForSize`.
 */
export const DEFAULT_CELL_NODE_OPTIONS = '--max-old-space-size=512 --max-semi-space-size=2';

/**
 * glibc malloc arenas per cell process unless the operator's `env` sets `MALLOC_ARENA_MAX`: Node's threads
 * otherwise each get an arena of their own, memory an idle cell holds and never uses (−3 to −5 % RSS per cell tree, measured).
 */
export const DEFAULT_CELL_MALLOC_ARENA_MAX = '2';

/**
 * glibc malloc thresholds per cell process unless the operator's `env` sets `GLIBC_TUNABLES`: fixed at 128 KiB, so that
 * glibc does not raise them as large blocks are freed, keeping memory it would otherwise hold for reuse. An idle cell
 * tree 13–16 MiB smaller, one that chatted 13–30 MiB, with chat turns and starts as fast (measured).
 */
export const DEFAULT_CELL_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072';

/**
 * How every cell launches OpenClaw, before its own paths, token and the operator's `env`: the install's
 * Node first on `PATH`, no colour, none of OpenClaw's channels, discovery, self-respawn or self-update,
 * and the default heap, arena and malloc threshold limits. The benchmarks start their bare reference gateway the same way.
 */
export function cellLaunch(
  install: Pick<OpenClawInstall, 'nodePath' | 'entryPath'>,
  port: number,
): { env: NodeJS.ProcessEnv; command: string[] } {
  return {
    env: {
      PATH: `${dirname(install.nodePath)}${delimiter}${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      OPENCLAW_SKIP_CHANNELS: '1',
      OPENCLAW_DISABLE_BONJOUR: '1',
      OPENCLAW_NO_RESPAWN: '1',
      OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
      OPENCLAW_NO_AUTO_UPDATE: '1',
      NODE_OPTIONS: DEFAULT_CELL_NODE_OPTIONS,
      MALLOC_ARENA_MAX: DEFAULT_CELL_MALLOC_ARENA_MAX,
      GLIBC_TUNABLES: DEFAULT_CELL_GLIBC_TUNABLES,
    },
    // The token travels by environment (readable only by the cell's own user), never on the command line.
    command: [
      install.nodePath,
      install.entryPath,
      'gateway',
      'run',
      '--allow-unconfigured',
      '--auth',
      'token',
      '--bind',
      'loopback',
      '--port',
      String(port),
    ],
  };
}

/** How one OpenClaw process of a cell is started: which directories it gets and who it runs as. */
export interface CellProcessSpec {
  settings: CellSettings;
  port: number;
  /** The cell's directories as OpenClaw sees them (at the sandbox's tenant root in a sandbox). */
  inside: CellPaths;
  /** Host directories a sandbox binds: the workspace and state (read-write) and the run directory. */
  host: { workspaceDir: string; stateDir: string; runDir?: string };
  /** Run as this user (as root). */
  user?: TenantUser;
  /** Its credentials; absent for a primed process, which is sent them when a tenant takes it. */
  credentials?: CellCredentials;
  /** `primed`: load modules, then wait for a tenant (needs the sandbox); `record`: list the modules loaded into this file (inside). */
  mode?: 'primed' | { record: string };
  /**
   * The install's compile cache to start from (mounted read-only; the run directory links to it), or
   * `record`: write one into the run directory (a tenantless gateway only). Sandboxed processes only.
   */
  compileCache?: CompileCache | 'record';
}

/** The environment that carries a cell's credentials into its OpenClaw process. */
export function credentialEnv(credentials: CellCredentials): Record<string, string> {
  return {
    OPENCLAW_GATEWAY_TOKEN: credentials.token,
    ...(credentials.hooksToken === undefined ? {} : { [HOOKS_TOKEN_ENV]: credentials.hooksToken }),
    ...(credentials.modelKey === undefined ? {} : { [MODEL_KEY_ENV]: credentials.modelKey }),
  };
}

/** What a cell's process is given to authenticate with: the gateway and hooks tokens it accepts, its model credential. */
export interface CellCredentials {
  token: string;
  hooksToken?: string;
  modelKey?: string;
}

/**
 * The command and environment of one OpenClaw process of a cell: the install's Node running OpenClaw's
 * gateway with the cell's paths (and credentials), in the cell's sandbox behind the relay when there is one.
 */
export function cellProcess(spec: CellProcessSpec): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  const { settings, port, inside } = spec;
  const launch = cellLaunch(settings.install, port);
  const env: NodeJS.ProcessEnv = {
    ...launch.env,
    ...Object.fromEntries(PASSED_ENV.filter((key) => process.env[key] !== undefined).map((key) => [key, process.env[key]])),
    ...settings.env,
    // Last, so no operator setting can move a cell out of its tenant's tree or change its credential.
    HOME: inside.homeDir,
    TMPDIR: inside.tmpDir,
    OPENCLAW_STATE_DIR: inside.stateDir,
    OPENCLAW_CONFIG_PATH: inside.configPath,
    OPENCLAW_WORKSPACE_DIR: inside.workspaceDir,
    ...(spec.credentials === undefined ? {} : credentialEnv(spec.credentials)),
  };
  const { sandbox } = settings;
  const runDir = spec.host.runDir;
  if (sandbox === undefined || runDir === undefined) {
    if (spec.mode !== undefined || spec.compileCache !== undefined)
      throw new Error('cellProcess: primed and recording processes and the shared compile cache need the sandbox');
    return { file: settings.install.nodePath, args: launch.command.slice(1), env };
  }
  if (spec.compileCache !== undefined) {
    env.NODE_COMPILE_CACHE = insideCompileCacheLinks;
    // OpenClaw would start itself again to move Node's cache into a directory of its own (per install, in the tenant's state).
    env.OPENCLAW_PACKAGED_COMPILE_CACHE_RESPAWNED = '1';
  }
  const isolated = sandbox.egress === 'none';
  // The relay runs first in every sandbox, in OpenClaw's process, then loads OpenClaw's entry (it clears locks a
  // previous process left and, once OpenClaw listens, applies `optimizeForSize`; without network it also joins sockets).
  env.OPENCLAW_MT_RELAY = JSON.stringify({
    optimizeForSize: settings.optimizeForSize,
    // No network inside: the relay joins the cell's loopback to the host through the run directory's sockets, and
    // keeps OpenClaw from sweeping its cloud workers every minute (a cell without network has none).
    ...(isolated ? { gatewaySocket: insideGatewaySocket, gatewayPort: port, workerSweep: false } : {}),
    // A pre-booted cell's model socket opens when a tenant takes it; its relay listens from the start.
    ...(isolated && settings.models !== undefined
      ? { modelSocket: insideModelSocket, modelPort: insideModelPort(port), releaseIdleWorkersMs: settings.releaseIdleWorkersMs }
      : {}),
    ...(spec.mode === 'primed' ? { primed: true } : {}),
    ...(typeof spec.mode === 'object' ? { record: spec.mode.record } : {}),
  });
  const { file, args } = sandboxCommand(
    {
      support: sandbox.support,
      installDir: settings.install.dir,
      writableDirs: [
        { source: spec.host.workspaceDir, dest: inside.workspaceDir },
        { source: spec.host.stateDir, dest: inside.stateDir },
      ],
      runDir,
      relayPath: sandbox.relayPath,
      egress: sandbox.egress,
      ...(spec.user === undefined ? {} : { user: spec.user }),
      switchesUser: spec.mode === 'primed' && settings.osUsers,
      workdir: inside.workspaceDir,
      ...(typeof spec.compileCache === 'object' ? { compileCacheDir: spec.compileCache.dir } : {}),
      emptiedFiles: settings.emptiedFiles,
    },
    [settings.install.nodePath, SANDBOX_RELAY_PATH, '--', ...launch.command.slice(1)],
  );
  return { file, args, env };
}
