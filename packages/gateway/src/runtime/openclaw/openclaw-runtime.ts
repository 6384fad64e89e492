import type { ConsolaInstance } from 'consola';
import { MultiTenantError, createLogger, type EvictionReason, type WorkspaceHandle } from '@openclaw-mt/core';
import type { MethodPolicyOptions } from '../../policy/method-policy.js';
import type { ActiveTenant, RuntimeSession, SessionContext, TenantRuntime } from '../tenant-runtime.js';
import { defaultProfile, openBridgeSession, type BridgeSettings } from './bridge-session.js';
import { OpenClawCell, type CellInfo, type CellSettings, type RestartPolicy } from './cell.js';
import { CellSpares, type SpareSettings } from './cell-spares.js';
import { DEFAULT_LOCKED_CONFIG_PATHS, managedConfigOf, type JsonObject } from './cell-config.js';
import { openClawMethodPolicy } from './method-policy.js';
import { PortAllocator, type PortRange } from './port-allocator.js';
import { resolveOpenClawInstall, type OpenClawInstall } from './runtime-install.js';
import { assertUsableByOthers } from './tenant-ownership.js';
import { osUsersAvailable } from './tenant-user.js';

/** Every operator scope OpenClaw knows. */
export const OPENCLAW_OPERATOR_SCOPES: readonly string[] = [
  'operator.read',
  'operator.write',
  'operator.admin',
  'operator.approvals',
  'operator.questions',
  'operator.pairing',
  'operator.talk',
  'operator.talk.secrets',
];

/** Options of {@link createOpenClawRuntime}. All optional. */
export interface OpenClawRuntimeOptions {
  /** The install to run, or its directory (default: `resolveOpenClawInstall()` of the default directory). */
  install?: OpenClawInstall | string;
  /** Operator defaults for every cell's OpenClaw config, written on a cell's first start; tenants may change them. */
  config?: JsonObject;
  /**
   * Key of the tenant config holding OpenClaw config (default `openclaw`). Merged over the operator's
   * `defaults` by the manager and re-applied at every start and config update.
   */
  configKey?: string;
  /** Methods allowed or denied on top of {@link OPENCLAW_DENIED_METHODS}. */
  methods?: MethodPolicyOptions;
  /** Config paths tenants may not change (default {@link DEFAULT_LOCKED_CONFIG_PATHS}: `gateway`, `logging.file`, `commands.config`/`plugins`/`debug`/`restart`). */
  lockedConfigPaths?: readonly string[];
  /** The most a client may be granted on its cell (default every operator scope); clients get what they ask for within it. */
  scopes?: readonly string[];
  /** Extra environment for every cell, for example provider API keys. */
  env?: Readonly<Record<string, string>>;
  /** Run each tenant's cell as its own OS user: `auto` (default) when the gateway runs as root on Linux. */
  osUsers?: 'auto' | boolean;
  /** Loopback ports for cells. */
  ports?: PortRange;
  /** How long a connecting client waits for a cold cell before a retryable `UNAVAILABLE` (default 30 s). */
  coldStartWaitMs?: number;
  /** How long one start may take to show `connect.challenge` before it counts as failed (default 120 s). */
  startTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL when stopping a cell (default 20 s). */
  stopTimeoutMs?: number;
  restart?: RestartPolicy;
  /**
   * Keep one spare, already authenticated connection to each ready cell, so a client asking for
   * what the previous one asked for is bridged without a round trip to the cell (default `true`).
   */
  spareConnections?: boolean;
  /** A spare older than this is replaced, which bounds how old the hello it gives a client can be (default 60 s). */
  spareMaxAgeMs?: number;
  logger?: ConsolaInstance;
}

/** The `openclaw` runtime: one OpenClaw gateway process per active tenant. */
export interface OpenClawRuntime extends TenantRuntime {
  readonly install: OpenClawInstall;
  /** Whether cells run as per-tenant OS users. */
  readonly osUsers: boolean;
  /** The cells of active tenants. */
  cells(): CellInfo[];
  /** Resident memory of a tenant's cell (all its processes), in bytes; 0 when none runs. */
  cellMemory(tenantId: string): Promise<number>;
  /**
   * The loopback port and private credential of a tenant's ready cell, for in-process diagnostics
   * and benchmarks (connecting to the cell directly); `undefined` unless it is ready. Never hand
   * the token to a client or write it to a log.
   */
  cellEndpoint(tenantId: string): { port: number; token: string } | undefined;
}

function positive(value: number | undefined, fallback: number, key: string): number {
  const out = value ?? fallback;
  if (!Number.isSafeInteger(out) || out <= 0) throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive integer of milliseconds, got ${String(value)}.`);
  return out;
}

/**
 * Creates the `openclaw` tenant runtime. Activating a tenant starts a real, unmodified OpenClaw
 * gateway for it as a child process (its own state, config, workspace, loopback port, private token
 * and — as root — OS user); the front door bridges each of the tenant's connections to it after its
 * own token check, behind a method policy; eviction stops it gracefully and its state stays in the
 * tenant's directories. Throws `CONFIG_INVALID` at once when OpenClaw is not installed.
 */
export function createOpenClawRuntime(options: OpenClawRuntimeOptions = {}): OpenClawRuntime {
  const log = options.logger ?? createLogger({ tag: 'openclaw' });
  const install = typeof options.install === 'object' ? options.install : resolveOpenClawInstall(options.install);
  const wantUsers = options.osUsers ?? 'auto';
  const osUsers = wantUsers === 'auto' ? osUsersAvailable() : wantUsers;
  if (osUsers && !osUsersAvailable()) {
    throw new MultiTenantError('CONFIG_INVALID', 'osUsers: per-tenant OS users need the gateway to run as root on Linux.');
  }
  if (!osUsers) {
    log.warn(
      `Per-tenant OS users are off${wantUsers === 'auto' ? ' (the gateway is not running as root)' : ''}: every OpenClaw cell runs as this process's user, ` +
        "so an agent's shell in one tenant can read other tenants' files. Run the gateway as root to isolate tenants by OS user.",
    );
  }
  const policy = openClawMethodPolicy(options.methods);
  const lockedPaths = options.lockedConfigPaths ?? DEFAULT_LOCKED_CONFIG_PATHS;
  const configKey = options.configKey ?? 'openclaw';
  const settings: CellSettings = {
    install,
    osUsers,
    ports: new PortAllocator(options.ports),
    defaults: options.config ?? {},
    configKey,
    lockedPaths,
    env: options.env ?? {},
    startTimeoutMs: positive(options.startTimeoutMs, 120_000, 'startTimeoutMs'),
    stopTimeoutMs: positive(options.stopTimeoutMs, 20_000, 'stopTimeoutMs'),
    restart: {
      initialDelayMs: positive(options.restart?.initialDelayMs, 1_000, 'restart.initialDelayMs'),
      maxDelayMs: positive(options.restart?.maxDelayMs, 30_000, 'restart.maxDelayMs'),
      maxAttempts: positive(options.restart?.maxAttempts, 5, 'restart.maxAttempts'),
      stableAfterMs: positive(options.restart?.stableAfterMs, 60_000, 'restart.stableAfterMs'),
    },
    log,
  };
  const bridge: BridgeSettings = {
    coldStartWaitMs: positive(options.coldStartWaitMs, 30_000, 'coldStartWaitMs'),
    policy,
    lockedPaths,
    scopes: options.scopes ?? OPENCLAW_OPERATOR_SCOPES,
    clientVersion: '0.1.0',
    log,
  };
  const spareSettings: SpareSettings | undefined =
    options.spareConnections === false
      ? undefined
      : { clientVersion: bridge.clientVersion, initialProfile: defaultProfile(bridge), maxAgeMs: positive(options.spareMaxAgeMs, 60_000, 'spareMaxAgeMs'), log };
  const cells = new Map<string, { cell: OpenClawCell; workspace: WorkspaceHandle; spares: CellSpares | undefined }>();
  let installChecked: Promise<void> | undefined;
  let closed = false;

  async function stopCell(tenantId: string): Promise<void> {
    const entry = cells.get(tenantId);
    if (entry === undefined) return;
    // The spare goes first: closed while the cell still runs, and none is opened again.
    entry.spares?.close();
    // Listed (as stopping) until the process is gone.
    await entry.cell.stop();
    if (cells.get(tenantId) === entry) cells.delete(tenantId);
    try {
      // Write-back: the cell's state is already in the tenant's directories; stores that cache persist now.
      await entry.workspace.flush();
    } catch (error) {
      log.warn(`Writing back the workspace of ${tenantId} failed:`, error);
    }
  }

  return {
    name: 'openclaw',
    deniedMethods: policy.denied,
    install,
    osUsers,

    async activate(tenant: ActiveTenant): Promise<void> {
      if (closed) throw new MultiTenantError('CLOSED', 'The openclaw runtime is shutting down.');
      const root = tenant.workspace.directory;
      if (root === undefined) {
        throw new MultiTenantError('CONFIG_INVALID', 'The openclaw runtime needs a workspace store with local directories (the fs adapter, for example).', {
          details: { reason: 'no-local-directory' },
        });
      }
      managedConfigOf(tenant.config, configKey);
      if (osUsers) {
        installChecked ??= Promise.all([assertUsableByOthers(install.nodePath, true), assertUsableByOthers(install.entryPath, false)]).then(() => undefined);
        installChecked.catch(() => (installChecked = undefined));
        await installChecked;
      }
      await stopCell(tenant.tenantId);
      const cell = new OpenClawCell(tenant.tenantId, root, tenant.config, settings);
      await cell.prepare();
      cells.set(tenant.tenantId, { cell, workspace: tenant.workspace, spares: spareSettings === undefined ? undefined : new CellSpares(cell, spareSettings) });
      cell.start();
    },

    async deactivate(tenantId: string, _reason: EvictionReason): Promise<void> {
      await stopCell(tenantId);
    },

    async reconfigure(tenant: ActiveTenant): Promise<void> {
      await cells.get(tenant.tenantId)?.cell.reconfigure(tenant.config);
    },

    async openSession(context: SessionContext): Promise<RuntimeSession> {
      const entry = cells.get(context.tenantId);
      if (entry === undefined) {
        throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway is not running; reconnect shortly.', { retryAfterMs: 1_000 });
      }
      return openBridgeSession(entry.cell, context, bridge, entry.spares);
    },

    async close(): Promise<void> {
      closed = true;
      await Promise.all([...cells.keys()].map((tenantId) => stopCell(tenantId)));
    },

    cells: () => [...cells.values()].map(({ cell, spares }) => (spares === undefined ? cell.info() : { ...cell.info(), spares: spares.info() })),
    cellMemory: async (tenantId) => (await cells.get(tenantId)?.cell.memory()) ?? 0,
    cellEndpoint: (tenantId) => cells.get(tenantId)?.cell.endpoint,
  };
}
