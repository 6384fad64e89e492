import { isAbsolute, resolve } from 'node:path';
import type { ConsolaInstance } from 'consola';
import { MultiTenantError, createLogger, type EvictionReason, type WorkspaceHandle } from '@openclaw-mt/core';
import { defaultHostMemoryLowBytes, hostMemory } from '@openclaw-mt/core/monitor';
import { packageVersion } from './package-version.js';
import {
  CloseCodes,
  type ActiveTenant,
  type MethodPolicyOptions,
  type RuntimeSession,
  type SessionContext,
  type StandbyUsage,
  type TenantQuotas,
  type TenantRuntime,
} from '@openclaw-mt/gateway';
import { DEFAULT_HELLO_HOLD_MS, defaultProfile, openBridgeSession, startingError, type BridgeSettings } from './bridge/bridge-session.js';
import { OpenClawCell, type CellInfo, type CellSettings, type CellUsage, type RestartPolicy } from './cell/cell.js';
import { CellSpares, type SpareSettings } from './bridge/cell-spares.js';
import { WarmCells, type WarmCellInfo, type WarmCellOptions } from './cell/warm-cells.js';
import { PrimedProcesses, type PrimedProcessInfo, type PrimedProcessOptions } from './cell/primed-processes.js';
import { sharedCompileCache, type CompileCacheState } from './cell/compile-cache.js';
import { CellMemoryEstimate, cellsForBudget, memoryAdmissionError } from './cell/capacity.js';
import { listProcesses, type ResidentMemory } from './os/process-table.js';
import { createBridgeDevice, type BridgeDevice, type loadBridgeDevice } from './bridge/bridge-device.js';
import { DEFAULT_LOCKED_CONFIG_PATHS, managedConfigOf, type JsonObject } from './config/cell-config.js';
import { openClawMethodPolicy } from './policy/method-policy.js';
import { checkHttpApiPrivilege, privilegesOf, type PrivilegeGrants } from './policy/privileges.js';
import { HTTP_API_LOCKED_PATHS, type HttpApi, type HttpApiSettings } from './http-api/http-apis.js';
import { PortAllocator, type PortRange } from './cell/port-allocator.js';
import { resolveOpenClawInstall, type OpenClawInstall } from './install/runtime-install.js';
import { withoutSpawnBroker } from './install/spawn-broker.js';
import { assertUsableByOthers } from './os/tenant-ownership.js';
import { osUsersAvailable } from './os/tenant-user.js';
import { modelsReady, type CellModels } from './cell/cell-models.js';
import { relayScriptPath } from './sandbox/relay-script.js';
import type { CellEgress } from './sandbox/sandbox-command.js';
import { sandboxSupport } from './sandbox/sandbox-support.js';

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
  /**
   * The most a client may be granted on its cell (default every operator scope); clients get what
   * they ask for within it, except `operator.admin`, which only tenants in `privileges.admin` get.
   */
  scopes?: readonly string[];
  /** Tenants (ids, or `"*"`) trusted with `operator.admin` and with terminals (`terminal.*`); none by default. */
  privileges?: PrivilegeGrants;
  /**
   * The front door's device identity towards its cells (see {@link loadBridgeDevice}); default a new
   * in-memory one, which each cell pairs again after every restart of the front door.
   */
  device?: BridgeDevice;
  /**
   * OpenClaw's HTTP surfaces to serve through the front door (all off by default): each cell's config
   * turns on exactly these (and no tenant can change that); {@link createHttpApiRoute} serves them.
   */
  httpApis?: HttpApiSettings;
  /** Extra environment for every cell (never provider keys: wire `models` instead). */
  env?: Readonly<Record<string, string>>;
  /**
   * Run every cell in a bubblewrap sandbox (default `true`): its own mount, PID, IPC, UTS and network
   * namespaces. Where the host cannot, the runtime refuses to start (`CONFIG_INVALID`, reason
   * `sandbox-unavailable`) unless this is `false`.
   */
  sandbox?: boolean;
  /**
   * The network of a sandboxed cell: `none` (default; only the model gateway, through a per-tenant
   * Unix socket) or `host` (the host's network: the internet, and every loopback service).
   */
  egress?: CellEgress;
  /** The model gateway every cell's providers point at, with its per-cell credential; the real keys stay there. */
  models?: CellModels;
  /** Run each tenant's cell as its own OS user: `auto` (default) when the gateway runs as root on Linux. */
  osUsers?: 'auto' | boolean;
  /** Loopback ports for cells. */
  ports?: PortRange;
  /**
   * How long a client's requests wait for a cold cell before the retryable `UNAVAILABLE` answer
   * OpenClaw's clients retry quietly (`details.reason: "startup-sidecars"`; default 120 s).
   */
  coldStartWaitMs?: number;
  /**
   * How long the handshake waits for a cold cell before the front door answers `hello-ok` itself and
   * the client's requests wait for the cell instead (default 5 s; OpenClaw's `gateway call` gives
   * up 10 s after connecting). `health` is answered by the front door until the cell is up. At or
   * above `coldStartWaitMs` the handshake waits for the cell, then answers `UNAVAILABLE`.
   */
  helloHoldMs?: number;
  /** How long one start may take to show `connect.challenge` before it counts as failed (default 120 s). */
  startTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL when stopping a cell (default 20 s). */
  stopTimeoutMs?: number;
  /**
   * After this long with no model call open, a cell without network asks OpenClaw to retire the worker threads its
   * chat turns started and now leave idle (150–270 MB per cell; OpenClaw keeps them 30 minutes); the next turn
   * starts them again, ~3 s. The first time after its start it does so without a model call too: OpenClaw's start
   * leaves a state reader its upkeep does not need. Default 300,000 (5 min); 0 leaves them to OpenClaw.
   */
  releaseIdleWorkersMs?: number;
  /**
   * Once OpenClaw's gateway listens, a sandboxed cell asks V8 to favour memory over speed (`--optimize-for-size`):
   * ~70 MB less per idle cell, starts unchanged, chat turns about as fast (a process's first ~0.5 s slower). Default `true`.
   */
  optimizeForSize?: boolean;
  /**
   * Let a sandboxed cell's OpenClaw start its spawn broker: a Node process it keeps for its whole life (~66 MB RSS, ~20 MB
   * of it its own) so that commands are not forked from the gateway's large process. Without it (the default), OpenClaw
   * spawns from its own process, as it does on macOS and Windows, and its idle SQLite reader can be given back (see
   * `releaseIdleWorkersMs`). Default `false`.
   */
  spawnBroker?: boolean;
  restart?: RestartPolicy;
  /**
   * Keep one spare, already authenticated connection to each ready cell, so a client asking for
   * what the previous one asked for is bridged without a round trip to the cell (default `true`).
   */
  spareConnections?: boolean;
  /** A spare older than this is replaced, which bounds how old the hello it gives a client can be (default 60 s). */
  spareMaxAgeMs?: number;
  /**
   * Memory for all cells, in bytes. A new cell starts only while the live cells' measured memory plus
   * one more cell fits (else a retryable `CAPACITY`, `details.reason: "memory-budget"`), and
   * {@link OpenClawRuntime.capacityFor} turns it into the manager's capacity. No budget by default.
   */
  memoryBudgetBytes?: number;
  /** What one cell is expected to take until a ready cell has been measured (default {@link DEFAULT_CELL_MEMORY_BYTES}). */
  cellMemoryBytes?: number;
  /**
   * Host memory that must stay available after a new cell starts (default: 10 % of the host's memory,
   * at most 1 GiB); below it a new cell is refused with a retryable `CAPACITY`, `details.reason: "host-memory"`.
   */
  hostMemoryReserveBytes?: number;
  /** How often each running cell's disk is measured against its tenant's `workspaceBytes` quota (default 30 s). */
  diskCheckIntervalMs?: number;
  /**
   * Keep `count` OpenClaw gateways booted before anyone asks (none by default): a tenant with no
   * OpenClaw state yet takes a ready one, which becomes its own in place, so its first reply does not
   * wait for OpenClaw to load (~20 s). Each costs an idle cell's memory. Needs the sandbox; `dir` must be
   * on the tenants' file system (the CLI uses `<dataDir>/warm-cells`).
   */
  warmCells?: WarmCellOptions;
  /**
   * Keep `count` OpenClaw processes primed (none by default): started in a sandbox with OpenClaw's modules
   * loaded, not yet any tenant's. A tenant whose cell must start and that cannot take a pre-booted cell (it
   * has OpenClaw state: a returning tenant) takes one: its directories are mounted into the process's
   * sandbox and the process becomes its user, so OpenClaw starts without loading its modules first (8.6–8.8 →
   * 5.1–5.6 s to a first reply in benchmark 13). Each holds ~310 MiB while it waits. Needs the sandbox and root (it
   * mounts); the CLI keeps them in `<dataDir>/primed-processes`.
   */
  primedProcesses?: PrimedProcessOptions;
  /**
   * Keep the install's compile cache in `dir` (absolute; the CLI uses `<dataDir>/compile-cache`): recorded once
   * per install by a tenantless gateway (13–16 s, ~40 MB on disk) and mounted read-only in every sandboxed cell,
   * so each starts from compiled code, its worker threads too (own starts ~1–1.5 s faster), and no tenant writes a
   * cache of its own (12–40 MB each); each running cell holds ~23 MB more (Node keeps what it read). Cells started
   * before it is recorded start as before. Used when cells are sandboxed as root (recording mounts); ignored otherwise.
   */
  compileCache?: { dir: string };
  logger?: ConsolaInstance;
}

/** The `openclaw` runtime: one OpenClaw gateway process per active tenant. */
export interface OpenClawRuntime extends TenantRuntime {
  readonly install: OpenClawInstall;
  /** Whether cells run as per-tenant OS users. */
  readonly osUsers: boolean;
  /** Whether cells run in a sandbox. */
  readonly sandboxed: boolean;
  /** The cells of active tenants. */
  cells(): CellInfo[];
  /** The pre-booted cells no tenant has taken yet (see `warmCells`), named `warm-<n>`; `offered` ones go to the next new tenant. */
  warmCells(): WarmCellInfo[];
  /** The primed processes no tenant has taken yet (see `primedProcesses`), named `primed-<n>`. */
  primedProcesses(): PrimedProcessInfo[];
  /**
   * Settles once the shared compile cache (`compileCache`) is ready: `true` when cells start from it (recorded now or
   * kept from before), `false` when there is none (not asked for, cells not sandboxed as root, or its recording failed).
   */
  compileCacheReady(): Promise<boolean>;
  /** How many pre-booted cells run and their memory (whole trees), measured now. */
  standby(): Promise<StandbyUsage>;
  /** Resident memory of a tenant's cell (all its processes), in bytes; 0 when none runs. */
  cellMemory(tenantId: string): Promise<number>;
  /** Memory, CPU time and disk of every cell (one `/proc` listing for all; disk figures up to 10 s old). */
  usage(): Promise<CellUsage[]>;
  /** The same, with every disk figure measured now. */
  cellUsage(): Promise<CellUsage[]>;
  /**
   * Average anonymous memory of the ready cells' process trees (what each takes from the host: RSS without the
   * file pages all cells share), in bytes, measured now; once a ready cell was measured, the last average stays
   * while none runs. `undefined` until then.
   */
  measuredCellMemory(): Promise<number | undefined>;
  /** What one cell is planned at now: the measured average, else the configured default. */
  cellMemoryEstimate(): number;
  /** How many cells fit `budgetBytes` at the measured per-cell memory (at least one): the manager's capacity. */
  capacityFor(budgetBytes: number): Promise<number>;
  /**
   * The loopback port and private credential of a tenant's ready cell, for in-process diagnostics
   * and benchmarks (connecting to the cell directly); `undefined` unless it is ready. Never hand
   * the token to a client or write it to a log.
   */
  cellEndpoint(tenantId: string): { port: number; token: string } | undefined;
  /** The HTTP surfaces the operator enabled. */
  readonly httpApis: Readonly<HttpApiSettings>;
  /**
   * Refuses (coded) a tenant's request to an HTTP surface it may not use: one not enabled (`NOT_FOUND`),
   * or `/v1/*` without the `admin` privilege (`BAD_REQUEST`, HTTP 403, `details.privilege: "admin"`).
   */
  checkHttpApi(tenantId: string, api: HttpApi): void;
  /**
   * Where a tenant's HTTP request goes: its cell's port and the credential the cell expects for `api`,
   * once the cell is ready. A cold cell is waited for up to `coldStartWaitMs`, then a retryable
   * `BACKEND_UNAVAILABLE` (with `retryAfterMs`). The tenant must be active (pinned by the caller).
   */
  httpTarget(tenantId: string, api: HttpApi, signal: AbortSignal): Promise<{ port: number; credential: string }>;
}

function positive(value: number | undefined, fallback: number, key: string): number {
  const out = value ?? fallback;
  if (!Number.isSafeInteger(out) || out <= 0)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive integer of milliseconds, got ${String(value)}.`);
  return out;
}

/** A tenant's cell and what the runtime keeps beside it. */
interface CellEntry {
  cell: OpenClawCell;
  workspace: WorkspaceHandle;
  spares: CellSpares | undefined;
  quotas: TenantQuotas | undefined;
  /** Why the tenant's sessions are refused (its data grew over its disk quota and its cell was stopped). */
  refused?: MultiTenantError;
  /** The check (and restart) a refused tenant's next sessions share. */
  retrying?: Promise<void>;
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
  const wantSandbox = options.sandbox ?? true;
  const egress = options.egress ?? 'none';
  if (egress !== 'none' && egress !== 'host')
    throw new MultiTenantError('CONFIG_INVALID', `egress: expected "none" or "host", got ${String(egress)}.`);
  const support = wantSandbox ? sandboxSupport() : undefined;
  if (support !== undefined && !support.available) {
    throw new MultiTenantError(
      'CONFIG_INVALID',
      `OpenClaw cells cannot be sandboxed on this host: ${support.reason}. Fix that, or set multiTenant.gateway.openclaw.sandbox to false ` +
        'to run cells without a sandbox (each tenant then sees the host: its files, processes and loopback services).',
      { details: { reason: 'sandbox-unavailable' } },
    );
  }
  if (!wantSandbox) log.warn('The cell sandbox is off: every OpenClaw cell sees the host file system, its processes and its network.');
  const policy = openClawMethodPolicy(options.methods);
  // The HTTP surfaces' keys are enforced whatever the operator locks, so tenants may never change them.
  const lockedPaths = [...(options.lockedConfigPaths ?? DEFAULT_LOCKED_CONFIG_PATHS), ...HTTP_API_LOCKED_PATHS];
  const httpApis: HttpApiSettings = { ...options.httpApis };
  const configKey = options.configKey ?? 'openclaw';
  const settings: CellSettings = {
    install,
    osUsers,
    ports: new PortAllocator(options.ports),
    defaults: options.config ?? {},
    configKey,
    lockedPaths,
    env: options.env ?? {},
    httpApis,
    ...(support === undefined ? {} : { sandbox: { support, egress, relayPath: relayScriptPath() } }),
    ...(options.models === undefined ? {} : { models: options.models }),
    startTimeoutMs: positive(options.startTimeoutMs, 120_000, 'startTimeoutMs'),
    stopTimeoutMs: positive(options.stopTimeoutMs, 20_000, 'stopTimeoutMs'),
    releaseIdleWorkersMs: options.releaseIdleWorkersMs === 0 ? 0 : positive(options.releaseIdleWorkersMs, 300_000, 'releaseIdleWorkersMs'),
    optimizeForSize: options.optimizeForSize ?? true,
    emptiedFiles: options.spawnBroker === true ? [] : withoutSpawnBroker(install),
    restart: {
      initialDelayMs: positive(options.restart?.initialDelayMs, 1_000, 'restart.initialDelayMs'),
      maxDelayMs: positive(options.restart?.maxDelayMs, 30_000, 'restart.maxDelayMs'),
      maxAttempts: positive(options.restart?.maxAttempts, 5, 'restart.maxAttempts'),
      stableAfterMs: positive(options.restart?.stableAfterMs, 60_000, 'restart.stableAfterMs'),
    },
    log,
  };
  const bridge: BridgeSettings = {
    coldStartWaitMs: positive(options.coldStartWaitMs, 120_000, 'coldStartWaitMs'),
    helloHoldMs: positive(options.helloHoldMs, DEFAULT_HELLO_HOLD_MS, 'helloHoldMs'),
    lastFeatures: {},
    lastServer: { version: install.openclawVersion },
    policy,
    lockedPaths,
    scopes: options.scopes ?? OPENCLAW_OPERATOR_SCOPES,
    privileges: options.privileges ?? {},
    clientVersion: packageVersion,
    device: options.device ?? createBridgeDevice(),
    log,
  };
  const spareSettings: SpareSettings | undefined =
    options.spareConnections === false
      ? undefined
      : {
          clientVersion: bridge.clientVersion,
          ...(bridge.device === undefined ? {} : { device: bridge.device }),
          initialProfile: defaultProfile(bridge),
          maxAgeMs: positive(options.spareMaxAgeMs, 60_000, 'spareMaxAgeMs'),
          log,
        };
  const cells = new Map<string, CellEntry>();
  const estimate = new CellMemoryEstimate(options.cellMemoryBytes);
  const budgetBytes = options.memoryBudgetBytes;
  if (budgetBytes !== undefined && (!Number.isFinite(budgetBytes) || budgetBytes <= 0))
    throw new MultiTenantError('CONFIG_INVALID', `memoryBudgetBytes: expected a positive number of bytes, got ${String(budgetBytes)}.`);
  const diskCheckIntervalMs = positive(options.diskCheckIntervalMs, 30_000, 'diskCheckIntervalMs');
  let diskTimer: NodeJS.Timeout | undefined;
  let installChecked: Promise<void> | undefined;
  let closed = false;
  const closing = new AbortController();
  settings.modelsReady = modelsReady(settings.models, closing.signal);
  settings.compileCache = compileCacheOf(options.compileCache, settings, closing.signal);
  const warm = warmCellsOf(options.warmCells, settings, (name) => checkInstall().then(() => admitMemory(name)), spareSettings);
  const primedPool = primedProcessesOf(options.primedProcesses, settings, (name) => checkInstall().then(() => admitMemory(name)));

  /** As root, every tenant's user must be able to run the install: checked once before the first cell. */
  function checkInstall(): Promise<void> {
    if (!osUsers) return Promise.resolve();
    installChecked ??= Promise.all([assertUsableByOthers(install.nodePath, true), assertUsableByOthers(install.entryPath, false)]).then(
      () => undefined,
    );
    installChecked.catch(() => (installChecked = undefined));
    return installChecked;
  }

  /** Every cell's usage from one `/proc` listing; disk walks younger than `diskMaxAgeMs` are reused. */
  async function measure(diskMaxAgeMs = 0): Promise<CellUsage[]> {
    const entries = [...cells.values()];
    if (entries.length === 0) return [];
    const table = await listProcesses();
    const usage = await Promise.all(entries.map(({ cell }) => cell.usage(table, diskMaxAgeMs)));
    observeReady(entries, usage);
    return usage;
  }

  /** Every cell's memory from one `/proc` listing, without measuring any disk (an activation waits for this). */
  async function measureMemory(): Promise<Array<{ tenantId: string; anonBytes: number }>> {
    const entries = [...cells.values()];
    if (entries.length === 0) return [];
    const table = await listProcesses();
    const usage = entries.map(({ cell }) => ({ tenantId: cell.tenantId, anonBytes: cell.processUsage(table).anonBytes }));
    observeReady(entries, usage);
    return usage;
  }

  /**
   * Plans cells with the memory of the ready ones among `entries` (`usage` in the same order): their anonymous
   * memory, not their RSS, which counts the Node binary's pages (~65 MiB) once more for every cell although the
   * host holds them once.
   */
  function observeReady(entries: readonly CellEntry[], usage: ReadonlyArray<{ anonBytes: number }>): void {
    estimate.observe(usage.filter((_, index) => entries[index]!.cell.info().state === 'ready').map((cell) => cell.anonBytes));
  }

  function quotaError(tenantId: string, storedBytes: number, limit: number): MultiTenantError {
    return new MultiTenantError(
      'QUOTA_EXCEEDED',
      `The files of ${tenantId} take ${storedBytes} bytes, over their ${limit}-byte quota; free space (or ask the operator for more) before the OpenClaw gateway can run again.`,
      { retryAfterMs: diskCheckIntervalMs, details: { quota: 'workspaceBytes', limit, usedBytes: storedBytes, reason: 'disk-quota' } },
    );
  }

  /**
   * Stops every running cell whose tenant's data grew past its `workspaceBytes` quota. The tenant
   * stays active but refused (its clients are closed with 1013 and new sessions get `QUOTA_EXCEEDED`)
   * until its data is under the quota again.
   */
  async function enforceDiskQuotas(): Promise<void> {
    for (const usage of await measure()) {
      const entry = cells.get(usage.tenantId);
      const limit = entry?.quotas?.workspaceBytes;
      if (entry === undefined || entry.refused !== undefined || limit === undefined || usage.storedBytes <= limit) continue;
      entry.refused = quotaError(usage.tenantId, usage.storedBytes, limit);
      log.warn(
        `${usage.tenantId}: ${usage.storedBytes} bytes stored, over the ${limit}-byte workspace quota; stopping its OpenClaw gateway.`,
      );
      entry.spares?.close();
      await entry.cell.stop({ code: CloseCodes.tryAgainLater, reason: 'workspace quota exceeded' });
    }
  }

  /**
   * A refused tenant's next session: still over the quota, refused again; under it, the cell starts
   * again. Sessions arriving together share one check.
   */
  function retryRefused(entry: CellEntry, limit: number): Promise<void> {
    entry.retrying ??= (async () => {
      const usage = await entry.cell.usage(undefined, 0);
      if (usage.storedBytes > limit) throw quotaError(entry.cell.tenantId, usage.storedBytes, limit);
      log.info(`${entry.cell.tenantId}: back under its workspace quota; starting its OpenClaw gateway again.`);
      await entry.cell.prepare();
      if (spareSettings !== undefined) entry.spares = new CellSpares(entry.cell, spareSettings);
      entry.refused = undefined;
      entry.cell.start();
    })().finally(() => {
      entry.retrying = undefined;
    });
    return entry.retrying;
  }

  function watchDisks(): void {
    if (diskTimer !== undefined || closed) return;
    diskTimer = setInterval(
      () => void enforceDiskQuotas().catch((error: unknown) => log.warn('checking cell disk quotas failed:', error)),
      diskCheckIntervalMs,
    );
    diskTimer.unref();
  }

  /** Refuses a new cell that would not fit the memory budget or the host (retryable `CAPACITY`). */
  async function admitMemory(tenantId: string): Promise<void> {
    // Memory only: measuring every cell's disk here would hold up each activation (the disk check has its own timer).
    const others = (await measureMemory()).filter((usage) => usage.tenantId !== tenantId);
    let host: { availableBytes: number; reserveBytes: number } | undefined;
    try {
      const memory = await hostMemory();
      host = {
        availableBytes: memory.availableBytes,
        reserveBytes: options.hostMemoryReserveBytes ?? defaultHostMemoryLowBytes(memory.totalBytes),
      };
    } catch {
      host = undefined;
    }
    const refused = memoryAdmissionError({
      ...(budgetBytes === undefined ? {} : { budgetBytes }),
      ...(host === undefined ? {} : { host }),
      perCellBytes: estimate.bytes,
      liveCellBytes: [...others, ...(await standbyMemory())].map((usage) => usage.anonBytes),
    });
    if (refused !== undefined) {
      log.warn(`Not starting the OpenClaw gateway of ${tenantId}: ${refused.message}`);
      throw refused;
    }
  }

  /** Memory of each process kept ready for tenants: pre-booted cells and primed processes. */
  async function standbyMemory(): Promise<ResidentMemory[]> {
    if (warm === undefined && primedPool === undefined) return [];
    const table = await listProcesses();
    return [...(warm?.memory(table) ?? []), ...(primedPool?.memory(table) ?? [])];
  }

  async function stopCell(tenantId: string, lost?: { reason: string; code: number }): Promise<void> {
    const entry = cells.get(tenantId);
    if (entry === undefined) return;
    // The spare goes first: closed while the cell still runs, and none is opened again.
    entry.spares?.close();
    // Listed (as stopping) until the process is gone.
    await entry.cell.stop(lost);
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
    sandboxed: support !== undefined,

    async activate(tenant: ActiveTenant): Promise<void> {
      if (closed) throw new MultiTenantError('CLOSED', 'The openclaw runtime is shutting down.');
      const root = tenant.workspace.directory;
      if (root === undefined) {
        throw new MultiTenantError(
          'CONFIG_INVALID',
          'The openclaw runtime needs a workspace store with local directories (the fs adapter, for example).',
          {
            details: { reason: 'no-local-directory' },
          },
        );
      }
      managedConfigOf(tenant.config, configKey);
      await checkInstall();
      await stopCell(tenant.tenantId);
      const cell = new OpenClawCell(tenant.tenantId, root, tenant.config, settings);
      // Over its disk quota, a tenant's gateway does not start again until its data is back under it.
      const limit = tenant.quotas?.workspaceBytes;
      if (limit !== undefined) {
        const stored = (await cell.usage(undefined, 0)).storedBytes;
        if (stored > limit) throw quotaError(tenant.tenantId, stored, limit);
      }
      const claimStarted = Date.now();
      const claimed = await warm?.claim(tenant.tenantId, root, tenant.config);
      if (claimed !== undefined) {
        log.info(
          `${tenant.tenantId} took a pre-booted OpenClaw gateway (pid ${claimed.cell.info().pid}, ${Date.now() - claimStarted} ms).`,
        );
        cells.set(tenant.tenantId, { ...claimed, workspace: tenant.workspace, quotas: tenant.quotas });
        watchDisks();
        return;
      }
      // A primed process is counted already: it becomes the cell.
      const primed = primedPool?.take();
      try {
        if (primed === undefined) await admitMemory(tenant.tenantId);
        await cell.prepare();
      } catch (error) {
        primed?.discard();
        throw error;
      }
      if (primed !== undefined) log.debug(`${tenant.tenantId}: starting in the primed process ${primed.name} (pid ${primed.child.pid}).`);
      cells.set(tenant.tenantId, {
        cell,
        workspace: tenant.workspace,
        spares: spareSettings === undefined ? undefined : new CellSpares(cell, spareSettings),
        quotas: tenant.quotas,
      });
      cell.start(primed);
      watchDisks();
    },

    async deactivate(tenantId: string, _reason: EvictionReason): Promise<void> {
      await stopCell(tenantId);
    },

    async reconfigure(tenant: ActiveTenant): Promise<void> {
      const entry = cells.get(tenant.tenantId);
      if (entry === undefined) return;
      entry.quotas = tenant.quotas;
      await entry.cell.reconfigure(tenant.config);
    },

    async openSession(context: SessionContext): Promise<RuntimeSession> {
      const entry = cells.get(context.tenantId);
      if (entry?.refused !== undefined) await retryRefused(entry, context.quotas.workspaceBytes);
      if (entry === undefined) {
        // Evicted or restarting between the activation and this session: the next connect starts it again.
        throw startingError();
      }
      return openBridgeSession(entry.cell, context, bridge, entry.spares);
    },

    async close(): Promise<void> {
      closed = true;
      clearInterval(diskTimer);
      closing.abort();
      await Promise.all(
        [...cells.keys()]
          .map((tenantId) => stopCell(tenantId))
          .concat(warm?.close() ?? [], primedPool?.close() ?? [], settings.compileCache?.recorded.then(() => undefined) ?? []),
      );
    },

    cells: () =>
      [...cells.values()].map(({ cell, spares }) => (spares === undefined ? cell.info() : { ...cell.info(), spares: spares.info() })),
    warmCells: () => warm?.info() ?? [],
    primedProcesses: () => primedPool?.info() ?? [],
    compileCacheReady: async () => (await settings.compileCache?.recorded) !== undefined,
    async standby() {
      const memory = await standbyMemory();
      return {
        cells: memory.length,
        rssBytes: memory.reduce((sum, usage) => sum + usage.rssBytes, 0),
        anonBytes: memory.reduce((sum, usage) => sum + usage.anonBytes, 0),
      };
    },
    cellMemory: async (tenantId) => (await cells.get(tenantId)?.cell.memory()) ?? 0,
    // Scrapes, stats and the monitor may ask often: a disk walk serves them for 10 s.
    usage: () => measure(10_000),
    cellUsage: () => measure(),
    async measuredCellMemory() {
      await measure(10_000);
      return estimate.measuredBytes;
    },
    cellMemoryEstimate: () => estimate.bytes,
    async capacityFor(budget) {
      await measure(10_000);
      // Pre-booted cells and primed processes take their share of the budget before any tenant does.
      const standby = (warm?.count ?? 0) + (primedPool?.count ?? 0);
      return cellsForBudget(Math.max(0, budget - standby * estimate.bytes), estimate.bytes);
    },
    cellEndpoint: (tenantId) => {
      const endpoint = cells.get(tenantId)?.cell.endpoint;
      return endpoint === undefined ? undefined : { port: endpoint.port, token: endpoint.token };
    },
    httpApis,

    checkHttpApi(tenantId, api) {
      if (httpApis[api] !== true)
        throw new MultiTenantError('NOT_FOUND', 'This HTTP API is not enabled on this gateway.', { details: { api } });
      checkHttpApiPrivilege(api, privilegesOf(bridge.privileges, tenantId));
    },

    async httpTarget(tenantId, api, signal) {
      const entry = cells.get(tenantId);
      if (entry === undefined) throw startingError();
      if (entry.refused !== undefined) await retryRefused(entry, entry.quotas?.workspaceBytes ?? Number.POSITIVE_INFINITY);
      await entry.cell.waitReady(bridge.coldStartWaitMs, signal);
      const endpoint = entry.cell.endpoint;
      const credential = api === 'hooks' ? endpoint?.hooksToken : endpoint?.token;
      if (endpoint === undefined || credential === undefined) throw startingError();
      return { port: endpoint.port, credential };
    },
  };
}

/** The pre-booted cells, checked; `undefined` when none are asked for. They start booting now. */
function warmCellsOf(
  options: WarmCellOptions | undefined,
  settings: CellSettings,
  admit: (name: string) => Promise<void>,
  spareSettings: SpareSettings | undefined,
): WarmCells | undefined {
  if (options === undefined || options.count === 0) return undefined;
  if (!Number.isSafeInteger(options.count) || options.count < 0)
    throw new MultiTenantError('CONFIG_INVALID', `warmCells.count: expected a whole number of cells, got ${String(options.count)}.`);
  if (typeof options.dir !== 'string' || options.dir === '')
    throw new MultiTenantError('CONFIG_INVALID', 'warmCells.dir: expected the directory for pre-booted cells.');
  // Outside a sandbox a cell sees its directories at their host paths, which a claim changes.
  if (settings.sandbox === undefined)
    throw new MultiTenantError('CONFIG_INVALID', 'warmCells: pre-booted cells need the cell sandbox (sandbox: true).');
  if (settings.models !== undefined && settings.models.gateway.reserve === undefined)
    throw new MultiTenantError('CONFIG_INVALID', 'warmCells: the model gateway cannot reserve credentials for pre-booted cells.');
  const warm = new WarmCells(options, settings, admit, spareSettings);
  warm.fill();
  return warm;
}

/** The shared compile cache, recorded now unless kept already; `undefined` when not asked for or cells are not sandboxed as root. */
function compileCacheOf(options: { dir: string } | undefined, settings: CellSettings, signal: AbortSignal): CompileCacheState | undefined {
  if (options === undefined) return undefined;
  if (typeof options.dir !== 'string' || !isAbsolute(options.dir))
    throw new MultiTenantError('CONFIG_INVALID', 'compileCache.dir: expected an absolute directory for the compile cache.');
  if (settings.sandbox === undefined || process.getuid?.() !== 0) {
    settings.log.debug("The shared compile cache is used by cells sandboxed as root only; these cells keep OpenClaw's own.");
    return undefined;
  }
  const started = Date.now();
  const state: CompileCacheState = {
    recorded: sharedCompileCache(settings, resolve(options.dir), signal).then(
      (cache) => {
        settings.log.info(
          `OpenClaw's compile cache is ready (${cache.tags.length} tag(s), ${Date.now() - started} ms); new cells start from it.`,
        );
        state.current = cache;
        return cache;
      },
      (error: unknown) => {
        if (!signal.aborted) settings.log.warn("Recording OpenClaw's compile cache failed; cells start without it:", error);
        return undefined;
      },
    ),
  };
  return state;
}

/** The primed processes, checked; `undefined` when none are asked for. They start priming now. */
function primedProcessesOf(
  options: PrimedProcessOptions | undefined,
  settings: CellSettings,
  admit: (name: string) => Promise<void>,
): PrimedProcesses | undefined {
  if (options === undefined || options.count === 0) return undefined;
  if (!Number.isSafeInteger(options.count) || options.count < 0)
    throw new MultiTenantError(
      'CONFIG_INVALID',
      `primedProcesses.count: expected a whole number of processes, got ${String(options.count)}.`,
    );
  if (typeof options.dir !== 'string' || !isAbsolute(options.dir))
    throw new MultiTenantError('CONFIG_INVALID', 'primedProcesses.dir: expected an absolute directory for primed processes.');
  // A tenant's directories reach a started process only by a mount into its sandbox, which takes root.
  if (settings.sandbox === undefined || process.getuid?.() !== 0 || settings.sandbox.support.setprivPath === undefined)
    throw new MultiTenantError('CONFIG_INVALID', 'primedProcesses: primed processes need the cell sandbox (sandbox: true) and root.');
  const pool = new PrimedProcesses({ ...options, dir: resolve(options.dir) }, settings, admit);
  pool.fill();
  return pool;
}
