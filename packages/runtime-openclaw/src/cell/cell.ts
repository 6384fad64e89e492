import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsolaInstance } from 'consola';
import { MultiTenantError, isMultiTenantError, type TenantConfig } from '@openclaw-mt/core';
import { createBackoff } from '@openclaw-mt/core/helpers';
import { CellConfigFile, cellPaths, enforcedConfig, managedConfigOf, type CellPaths, type JsonObject } from '../config/cell-config.js';
import { waitForChallenge } from './cell-readiness.js';
import { OutputTail } from './output-tail.js';
import type { PortAllocator } from './port-allocator.js';
import { treeDiskUsage, type TreeDiskUsage } from '../os/disk-usage.js';
import { askGroupToStop, cellProcessUsage, killUserProcesses, listProcesses, signalGroup, type ProcessEntry } from '../os/process-table.js';
import type { OpenClawInstall } from '../install/runtime-install.js';
import { tenantFileIO } from '../os/tenant-file-io.js';
import { ensureDirectory, grantTraverse, handTreeTo } from '../os/tenant-ownership.js';
import { ensureTenantUser, ensureWarmUser, renameAccount, retireAccount, tenantUserName, type TenantUser } from '../os/tenant-user.js';
import { assertRenamable, moveWarmTree } from '../os/warm-tree.js';
import { createCellRunDir, removeCellRunDir, type CellRunDir } from '../sandbox/cell-run-dir.js';
import { SANDBOX_TENANT_ROOT, type CellEgress } from '../sandbox/sandbox-command.js';
import type { SandboxSupport } from '../sandbox/sandbox-support.js';
import { forwardPortToSocket, type SocketForwarder } from '../sandbox/socket-forwarder.js';
import { cellProviderConfig, insideModelPort, type CellModels } from './cell-models.js';
import type { HttpApiSettings } from '../http-api/http-apis.js';
import { ACCEPTING_LINE, cellProcess, credentialEnv } from './cell-launch.js';
import type { PrimedProcess } from './primed-processes.js';
import type { CompileCache, CompileCacheState } from './compile-cache.js';

/** Where a cell is in its life. */
export type CellState = 'stopped' | 'starting' | 'ready' | 'backoff' | 'failed' | 'stopping';

/** Restart policy after a crash: capped exponential backoff. */
export interface RestartPolicy {
  /** First delay (default 1 s); doubles per consecutive failure. */
  initialDelayMs?: number;
  /** Longest delay (default 30 s). */
  maxDelayMs?: number;
  /** Consecutive failed starts before the cell is marked failed (default 5); the next client retries it. */
  maxAttempts?: number;
  /** A cell that stayed ready this long starts counting failures from zero again (default 60 s). */
  stableAfterMs?: number;
}

/** What every cell of a runtime shares. */
export interface CellSettings {
  install: OpenClawInstall;
  /** Run each tenant's cell as its own OS user. */
  osUsers: boolean;
  ports: PortAllocator;
  /** Operator defaults for OpenClaw's config. */
  defaults: JsonObject;
  /** Tenant config key holding OpenClaw config. */
  configKey: string;
  lockedPaths: readonly string[];
  /** Extra environment for every cell. */
  env: Readonly<Record<string, string>>;
  /** The sandbox every cell runs in; absent when the operator opted out. */
  sandbox?: CellSandbox;
  /** The model gateway every cell's providers point at; absent: providers as the config says. */
  models?: CellModels;
  /** OpenClaw's HTTP surfaces the front door serves. */
  httpApis: HttpApiSettings;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** Model-quiet time after which a sandboxed cell asks OpenClaw to retire its idle workers; 0: never. */
  releaseIdleWorkersMs: number;
  /** Whether a sandboxed cell asks V8 to favour memory over speed once OpenClaw listens. */
  optimizeForSize: boolean;
  /** Files of the install a sandboxed cell sees empty (OpenClaw's spawn broker's entry, unless the operator wants it). */
  emptiedFiles: readonly string[];
  /** The install's shared compile cache sandboxed cells start from, once recorded; absent without one. */
  compileCache?: CompileCacheState;
  /** `models.ready`, given up when the runtime closes (`modelsReady`); absent for a gateway that runs already. */
  modelsReady?: Promise<void>;
  restart: Required<RestartPolicy>;
  log: ConsolaInstance;
}

/** How cells are sandboxed. */
export interface CellSandbox {
  support: SandboxSupport;
  egress: CellEgress;
  /** Host path of the relay script. */
  relayPath: string;
}

/** Where a ready cell listens and the private credentials it accepts. */
export interface CellEndpoint {
  port: number;
  /** The gateway token (WebSocket and `/v1/*`). */
  token: string;
  /** The hooks token (`/hooks/*`), when hooks are on. */
  hooksToken?: string;
}

/** A cell, as operators and tests see it. */
export interface CellInfo {
  tenantId: string;
  state: CellState;
  pid?: number;
  /** The cell's private loopback port (never shown to clients). */
  port?: number;
  /** The OS account the cell runs as, when per-tenant users are on. */
  user?: TenantUser;
  /** Whether the cell runs in a sandbox, and with which network. */
  sandbox?: { egress: CellEgress };
  /** Processes started so far. */
  starts: number;
  /** Exits nobody asked for. */
  crashes: number;
  startedAt?: number;
  readyAt?: number;
  /** When the current process said it takes connections (its startup sidecars done), after `readyAt`. */
  acceptingAt?: number;
  /** The current process was primed: started with OpenClaw's modules loaded before this tenant took it. */
  primed?: boolean;
  lastExit?: { code: number | null; signal: string | null; at: number };
  error?: { code: string; message: string };
  /** The bridge's spare connection to the cell (absent when spares are off). */
  spares?: CellSpareInfo;
}

/** What a cell costs the host right now. */
export interface CellUsage {
  tenantId: string;
  /** Resident memory of the cell's whole process tree (its process group), in bytes; 0 when not running. */
  rssBytes: number;
  /**
   * The tree's anonymous resident memory: `rssBytes` without the pages of files its processes map (the Node binary's
   * above all), which the host keeps once for all cells. What one more cell takes from the host; capacity plans with it.
   */
  anonBytes: number;
  /** CPU time of the cell's live processes since they started, in seconds. */
  cpuSeconds: number;
  /** Disk the tenant's directories (workspace, state, home, tmp, logs) occupy, in bytes. */
  diskBytes: number;
  /**
   * What the `workspaceBytes` quota counts: `diskBytes` without the caches OpenClaw rebuilds (its
   * `cache` directory, with a copy of the Control UI, and the cell's temp directory with the compile
   * cache), up to {@link CELL_CACHE_ALLOWANCE_BYTES}: caches past that count, so they cannot hide data.
   */
  storedBytes: number;
}

/** Rebuildable caches a cell keeps outside its quota: 128 MiB (measured 3–54 MB of Control UI copy and 12–40 MB of compile cache). */
export const CELL_CACHE_ALLOWANCE_BYTES = 128 * 1024 ** 2;

/** The bridge's warm, already-authenticated connection to a cell, kept for the next client. */
export interface CellSpareInfo {
  /** A spare is open and can be handed to the next client whose role and scopes match it. */
  ready: boolean;
  /**
   * The cell's current process answered a spare connection and has dropped none since: it takes connections,
   * also while a spare that grew old or stale is being replaced (`ready` is then briefly false).
   */
  answering: boolean;
  /** Spare connections opened so far. */
  opened: number;
  /** Spares handed to client sessions. */
  taken: number;
  /** Client sessions that opened their own connection (no matching spare was ready). */
  missed: number;
  /** Spares closed unused: dropped by the cell, stale, too old, retargeted, or the cell stopped. */
  discarded: number;
}

/** Something bound to the current process of a cell (a bridged client session). */
export interface CellListener {
  /** The process this listener was bound to is gone; `code` is the close code to give clients, when it is not a restart. */
  cellLost(reason: string, code?: number): void;
}

interface Run {
  child: ChildProcess;
  port: number;
  token: string;
  /** The hooks token of this process (present when hooks are on). */
  hooksToken: string | undefined;
  aborter: AbortController;
  exited: Promise<void>;
  alive: boolean;
  /** The host port leading into a cell without network. */
  forwarder?: SocketForwarder;
  /** Started as a primed process, handed to this cell. */
  primed: boolean;
  /** Settles when OpenClaw says it takes connections (`at`), or when the process ends (see {@link OpenClawCell.whenAccepting}). */
  accepting: { settled: boolean; at?: number; promise: Promise<void>; resolve: () => void };
}

/**
 * One tenant's OpenClaw gateway: a child process with its own state, config, workspace, port, token
 * and (as root) OS user. Starts on demand, reports readiness by the `connect.challenge` event,
 * restarts after crashes with capped backoff, treats exit code 78 as a config error, and stops
 * gracefully (SIGTERM, then SIGKILL).
 */
export class OpenClawCell {
  private owner: string;
  private tree: CellPaths;
  private state: CellState = 'stopped';
  private run: Run | undefined;
  private user: TenantUser | undefined;
  private configFile: CellConfigFile | undefined;
  private runDir: CellRunDir | undefined;
  /** The shared compile cache this activation's processes start from (as recorded when it was prepared). */
  private compileCache: CompileCache | undefined;
  private modelCredential:
    | { readonly credential: string; revoke(): void; assign?(tenantId: string): void; nextRequest?(signal?: AbortSignal): Promise<void> }
    | undefined;
  private modelSocket: { close(options?: { drain?: boolean }): Promise<void> } | undefined;
  /** Where the cell reaches the model gateway (changes with the port when it has no network). */
  private modelOrigin: string | undefined;
  private readonly tail = new OutputTail();
  private readonly listeners = new Set<CellListener>();
  private readonly stateListeners = new Set<(state: CellState) => void>();
  private stateChanged = deferred();
  private backoffTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private failure: MultiTenantError | undefined;
  private starts = 0;
  private crashes = 0;
  private startedAt: number | undefined;
  private readyAt: number | undefined;
  private lastExit: CellInfo['lastExit'];
  private expectedStartMs = 15_000;
  private disk: { at: number; usage: Promise<TreeDiskUsage> } | undefined;

  /**
   * `warm`: a pre-booted cell in a slot directory (`root`), run by an account of its own, whose
   * tenant is not known yet; {@link adopt} makes it a tenant's.
   */
  constructor(
    tenantId: string,
    root: string,
    private config: TenantConfig,
    private readonly settings: CellSettings,
    private warm = false,
  ) {
    this.owner = tenantId;
    this.tree = cellPaths(root);
  }

  /** The tenant this cell serves (a slot's name while it is pre-booted). */
  get tenantId(): string {
    return this.owner;
  }

  /** The cell's directories on the host. */
  get paths(): CellPaths {
    return this.tree;
  }

  /** The same directories as the OpenClaw process sees them: at {@link SANDBOX_TENANT_ROOT} in a sandbox. */
  private get inside(): CellPaths {
    return this.settings.sandbox === undefined ? this.tree : cellPaths(SANDBOX_TENANT_ROOT);
  }

  /**
   * Gets the tenant's tree ready (OS user, directories, ownership, config file). Throws a coded error
   * (which aborts the activation) for anything the tenant cannot fix by retrying.
   */
  async prepare(): Promise<void> {
    const { settings, paths } = this;
    if (settings.osUsers) {
      await mkdir(paths.root, { recursive: true });
      this.user = this.warm ? await ensureWarmUser(paths.root) : await ensureTenantUser(this.tenantId, paths.root);
      // Nothing of a previous life may still run as this user while we touch its files.
      await killUserProcesses(this.user.uid);
      await grantTraverse(paths.root);
    }
    for (const dir of [paths.workspaceDir, paths.stateDir, paths.homeDir, paths.tmpDir, paths.logDir]) await ensureDirectory(dir);
    if (this.user !== undefined) {
      // The store's own metadata stays the gateway's.
      const report = await handTreeTo(paths.root, this.user, ['.openclaw-mt']);
      if (report.skipped.length > 0)
        settings.log.warn(`${this.tenantId}: left ${report.skipped.length} multiply-linked file(s) untouched.`);
    }
    if (settings.sandbox !== undefined) {
      this.compileCache = settings.compileCache?.current;
      this.runDir = await createCellRunDir(paths.root, this.user, this.compileCache);
    }
    if (settings.models !== undefined) {
      await settings.modelsReady;
      await this.connectModels(settings.models);
    }
    this.configFile = this.openConfigFile();
    await this.renderConfig();
  }

  private openConfigFile(): CellConfigFile {
    const { settings } = this;
    return new CellConfigFile(
      tenantFileIO(this.user, settings.install.nodePath),
      this.paths.configPath,
      settings.lockedPaths,
      (backup, reason) =>
        settings.log.warn(
          `${this.tenantId}: openclaw.json could not be read (${reason}); kept it as ${backup} and started from the defaults.`,
        ),
    );
  }

  /**
   * A credential for this cell and, for a cell without network, a model socket only this tenant may
   * use. A pre-booted cell's credential reaches no provider until {@link adopt}; its socket, under the
   * cell's own name until then, serves only its warm-up turn (see {@link nextModelRequest}).
   */
  private async connectModels(models: CellModels): Promise<void> {
    if (this.warm) {
      if (models.gateway.reserve === undefined)
        throw new MultiTenantError('CONFIG_INVALID', 'warmCells: the model gateway cannot reserve credentials for pre-booted cells.');
      this.modelCredential = models.gateway.reserve();
    } else this.modelCredential = models.gateway.issue(this.tenantId);
    if (this.runDir !== undefined && this.settings.sandbox?.egress === 'none') {
      await this.listenForModels(models);
      return;
    }
    if (models.origin === undefined)
      throw new MultiTenantError('CONFIG_INVALID', 'The model gateway has no loopback origin for cells that share the host network.');
    this.modelOrigin = models.origin;
  }

  /**
   * Resolves when this pre-booted cell presents its model credential (its warm-up turn reached the model
   * call, held there by the model gateway); rejects when it cannot tell (no such model gateway) or `signal` aborts.
   */
  nextModelRequest(signal: AbortSignal): Promise<void> {
    const next = this.warm ? this.modelCredential?.nextRequest : undefined;
    if (next === undefined) return Promise.reject(new Error('This cell cannot report its model requests.'));
    return next(signal);
  }

  /** Whether this pre-booted cell can run a warm-up turn (its model gateway holds and reports its calls). */
  get canWarmUp(): boolean {
    return this.warm && this.modelCredential?.nextRequest !== undefined;
  }

  private async listenForModels(models: CellModels): Promise<void> {
    this.modelSocket = await models.gateway.listenFor(this.tenantId, this.runDir!.modelSocket, {
      mode: 0o600,
      ...(this.user === undefined ? {} : { uid: this.user.uid, gid: this.user.gid }),
    });
  }

  /**
   * Makes this ready pre-booted cell the tenant's without restarting it: its account is renamed to the
   * tenant's (the uid stays: nobody else ever had it), the tenant's files are handed to that account
   * and moved in, and its directories become the tenant's ({@link moveWarmTree}), its
   * model credential and socket become the tenant's, and the tenant's config is written over the
   * defaults it booted with (OpenClaw reloads it). For a tenant with no OpenClaw state yet
   * (see {@link hasNoCellState}). On failure the caller stops the cell.
   */
  async adopt(tenantId: string, root: string, config: TenantConfig): Promise<void> {
    if (!this.warm || this.state !== 'ready') throw new Error('adopt: only a ready pre-booted cell can be adopted');
    const { settings } = this;
    const tenant = cellPaths(root);
    // Before anything changes: the directories can move only within one mount.
    await assertRenamable(this.paths.root, root);
    if (this.user !== undefined) {
      const name = tenantUserName(tenantId, await realpath(root));
      // A tenant without OpenClaw state may have an account here from an earlier life (its data removed, or a data
      // directory made anew at the same path): retired (its uid stays taken), so this cell's account takes the name.
      const earlier = await retireAccount(name);
      if (earlier !== undefined) {
        await killUserProcesses(earlier.uid);
        settings.log.info(`${tenantId}: retired its earlier OS account (uid ${earlier.uid}); it had no OpenClaw state left.`);
      }
      this.user = await renameAccount(this.user, name);
      // The tenant's files change hands before they move in, out of the cell's sight: OpenClaw watches its workspace,
      // and a directory it cannot read when it appears stays unwatched (its skills and memory watchers: EACCES).
      await handTreeTo(root, this.user, ['.openclaw-mt']);
    }
    await moveWarmTree(this.paths, tenant);
    this.owner = tenantId;
    this.tree = tenant;
    this.config = config;
    this.warm = false;
    this.disk = undefined;
    if (this.user !== undefined) await grantTraverse(root);
    this.modelCredential?.assign?.(tenantId);
    if (settings.models !== undefined && this.runDir !== undefined && settings.sandbox?.egress === 'none') {
      // The pre-booted cell's socket made way: from now on the socket at that path is the tenant's only. What is in
      // flight on it is the warm-up's, held unanswered and never a provider's: cut, not drained (OpenClaw sometimes
      // leaves such a call open, and a drain held the claim for up to 10 s).
      await this.modelSocket?.close({ drain: false });
      await this.listenForModels(settings.models);
    }
    this.configFile = this.openConfigFile();
    await this.renderConfig();
  }

  private async renderConfig(): Promise<boolean> {
    const { models } = this.settings;
    const providers =
      models === undefined || this.modelCredential === undefined || this.modelOrigin === undefined
        ? undefined
        : (cellProviderConfig(models.gateway, this.modelOrigin) as JsonObject);
    return this.configFile!.render({
      defaults: this.settings.defaults,
      managed: managedConfigOf(this.config, this.settings.configKey),
      enforced: enforcedConfig(this.inside, providers, this.settings.httpApis),
    });
  }

  /** The config as last rendered (the reference for locked keys). */
  get renderedConfig(): JsonObject {
    return this.configFile?.rendered ?? {};
  }

  /** The port and private tokens of the running process, for the bridge and the HTTP door (never for clients). */
  get endpoint(): CellEndpoint | undefined {
    if (this.state !== 'ready' || this.run === undefined) return undefined;
    const { port, token, hooksToken } = this.run;
    return { port, token, ...(hooksToken === undefined ? {} : { hooksToken }) };
  }

  /**
   * Starts a process unless one is starting or running: a new one, or `primed` (loaded already, waiting
   * in its sandbox) handed this tenant's directories, account and credentials.
   */
  start(primed?: PrimedProcess): void {
    if (this.state === 'starting' || this.state === 'ready' || this.state === 'stopping') {
      primed?.discard();
      return;
    }
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.failure = undefined;
    this.setState('starting');
    void this.launch(primed).catch((error: unknown) =>
      this.fail(
        isMultiTenantError(error)
          ? error
          : new MultiTenantError('INTERNAL', `Starting the OpenClaw gateway of ${this.tenantId} failed.`, { cause: error }),
      ),
    );
  }

  private async launch(primed?: PrimedProcess): Promise<void> {
    const { settings, paths, inside } = this;
    if (primed !== undefined && (this.runDir === undefined || settings.sandbox === undefined)) {
      primed.discard();
      primed = undefined;
    }
    let port = primed?.port ?? (await settings.ports.allocate());
    if (this.state !== 'starting') {
      if (primed === undefined) settings.ports.release(port);
      else primed.discard();
      return;
    }
    const token = randomBytes(32).toString('base64url');
    // A token of its own for hooks: OpenClaw warns when it equals the gateway token, and it opens less.
    const hooksToken = settings.httpApis.hooks === true ? randomBytes(32).toString('base64url') : undefined;
    const modelKey = this.modelCredential?.credential;
    const credentials = { token, ...(hooksToken === undefined ? {} : { hooksToken }), ...(modelKey === undefined ? {} : { modelKey }) };
    const isolated = settings.sandbox?.egress === 'none' && this.runDir !== undefined;
    let forwarder: SocketForwarder | undefined;
    // Until the process runs (or the primed one is ours): what to give back if this start goes no further.
    const abandon = async () => {
      await forwarder?.close();
      primed?.discard();
      if (primed === undefined || primed.taken) settings.ports.release(port);
    };
    if (isolated) {
      // No network inside: the front door reaches the cell through this host port, joined to the relay's socket.
      // Another process may take the port between the allocator's check and this bind: then the next port (a
      // primed process listens on its own already).
      for (let attempt = 1; forwarder === undefined; attempt++) {
        try {
          forwarder = await forwardPortToSocket(port, this.runDir!.gatewaySocket, this.user?.uid ?? process.getuid?.() ?? 0);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5 || primed !== undefined) {
            await abandon();
            throw error;
          }
          settings.ports.release(port);
          port = await settings.ports.allocate();
        }
      }
    }
    if (isolated && this.modelCredential !== undefined) {
      this.modelOrigin = `http://127.0.0.1:${insideModelPort(port)}`;
      try {
        await this.renderConfig();
      } catch (error) {
        await abandon();
        throw error;
      }
    }
    // Stopped while this start was on its way: nothing may run.
    if (this.state !== 'starting') {
      await abandon();
      return;
    }
    this.tail.clear();
    this.starts++;
    this.startedAt = Date.now();
    this.readyAt = undefined;
    let child: ChildProcess;
    let ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    if (primed !== undefined) {
      try {
        await primed.handOver(
          { workspaceDir: paths.workspaceDir, stateDir: paths.stateDir, runDir: this.runDir!.dir },
          this.user,
          credentialEnv(credentials),
        );
      } catch (error) {
        await abandon();
        throw error;
      }
      if (this.state !== 'starting') {
        await abandon();
        return;
      }
      ({ child, ended } = primed);
    } else {
      const { file, args, env } = cellProcess({
        settings,
        port,
        inside,
        host: {
          workspaceDir: paths.workspaceDir,
          stateDir: paths.stateDir,
          ...(this.runDir === undefined ? {} : { runDir: this.runDir.dir }),
        },
        ...(this.user === undefined ? {} : { user: this.user }),
        ...(this.compileCache === undefined ? {} : { compileCache: this.compileCache }),
        credentials,
      });
      child = spawn(file, args, {
        cwd: paths.workspaceDir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        // In a sandbox, bwrap starts as the gateway's user and drops to the tenant's itself.
        ...(this.user === undefined || settings.sandbox !== undefined ? {} : { uid: this.user.uid, gid: this.user.gid }),
      });
      ended = new Promise((resolve) => {
        child.once('error', (error) => {
          this.tail.push(`spawn failed: ${error.message}\n`);
          if (child.pid === undefined) resolve({ code: null, signal: null });
        });
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
    }
    let exited!: () => void;
    const run: Run = {
      child,
      port,
      token,
      hooksToken,
      aborter: new AbortController(),
      exited: new Promise<void>((resolve) => (exited = resolve)),
      alive: true,
      ...(forwarder === undefined ? {} : { forwarder }),
      primed: primed !== undefined,
      accepting: { settled: false, ...deferred() },
    };
    this.run = run;
    const onOutput = (chunk: Buffer) => {
      for (const line of this.tail.push(chunk)) {
        settings.log.debug(`[${this.tenantId}] ${redact(line, [token, hooksToken, modelKey])}`);
        if (!run.accepting.settled && ACCEPTING_LINE.test(line)) {
          run.accepting.at = Date.now();
          settleAccepting(run);
        }
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    void ended.then(({ code, signal }) => this.onExit(run, code, signal, exited));
    if (child.pid === undefined) return;

    const ready = await waitForChallenge(port, { deadline: Date.now() + settings.startTimeoutMs, signal: run.aborter.signal });
    if (this.run !== run || !run.alive || this.state !== 'starting') return;
    if (ready) {
      this.readyAt = Date.now();
      this.expectedStartMs = this.readyAt - this.startedAt;
      settings.log.info(`OpenClaw gateway of ${this.tenantId} is ready (pid ${child.pid}, ${this.expectedStartMs} ms).`);
      this.setState('ready');
      return;
    }
    settings.log.warn(`OpenClaw gateway of ${this.tenantId} was not ready after ${settings.startTimeoutMs} ms; killing it.`);
    signalGroup(child.pid, 'SIGKILL');
  }

  private onExit(run: Run, code: number | null, signal: NodeJS.Signals | null, exited: () => void): void {
    if (!run.alive) return;
    run.alive = false;
    run.aborter.abort();
    // Helpers the cell started share its process group: none may outlive it.
    if (run.child.pid !== undefined) signalGroup(run.child.pid, 'SIGKILL');
    void run.forwarder?.close();
    this.settings.ports.release(run.port);
    this.lastExit = { code, signal, at: Date.now() };
    exited();
    settleAccepting(run);
    if (this.run !== run) return;
    this.run = undefined;
    this.notifyLost(code === 0 ? 'tenant gateway stopped' : 'tenant gateway restarting');
    if (this.state === 'stopping') return;
    this.crashes++;
    if (this.user !== undefined) void killUserProcesses(this.user.uid);
    const secrets = [run.token, ...(run.hooksToken === undefined ? [] : [run.hooksToken])];
    if (code === 78) {
      this.fail(
        new MultiTenantError(
          'CONFIG_INVALID',
          `The OpenClaw gateway of ${this.tenantId} refused its configuration:\n${this.tail.text(secrets, 12)}`,
          {
            details: { reason: 'openclaw-config', exitCode: 78 },
          },
        ),
      );
      return;
    }
    const ranFor = this.readyAt === undefined ? 0 : Date.now() - this.readyAt;
    this.failures = ranFor >= this.settings.restart.stableAfterMs ? 1 : this.failures + 1;
    this.settings.log.warn(
      `OpenClaw gateway of ${this.tenantId} exited (${signal ?? `code ${code}`}); failure ${this.failures} of ${this.settings.restart.maxAttempts}.\n${this.tail.text(secrets, 8)}`,
    );
    if (this.failures >= this.settings.restart.maxAttempts) {
      this.fail(
        new MultiTenantError('BACKEND_UNAVAILABLE', `The OpenClaw gateway of ${this.tenantId} keeps failing to run; try again later.`, {
          retryAfterMs: this.settings.restart.maxDelayMs,
          details: { reason: 'cell-crashed', exitCode: code, signal },
        }),
      );
      return;
    }
    const { initialDelayMs, maxDelayMs } = this.settings.restart;
    const delay = createBackoff({ initialMs: initialDelayMs, maxMs: maxDelayMs, minMs: 0, jitter: 'none' })(this.failures);
    this.setState('backoff');
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      if (this.state === 'backoff') this.start();
    }, delay);
    this.backoffTimer.unref();
  }

  private fail(error: MultiTenantError): void {
    this.failure = error;
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.run?.alive && this.run.child.pid !== undefined) signalGroup(this.run.child.pid, 'SIGKILL');
    this.setState('failed');
  }

  private setState(state: CellState): void {
    this.state = state;
    const changed = this.stateChanged;
    this.stateChanged = deferred();
    changed.resolve();
    for (const listener of [...this.stateListeners]) listener(state);
  }

  /**
   * Whether OpenClaw's current process said it takes connections (true without a process). With
   * {@link whenAccepting}: a connection refused while OpenClaw was still starting is tried again as soon
   * as it says so, rather than after the delay it asked for (500 ms).
   */
  get accepting(): boolean {
    return this.run?.accepting.settled ?? true;
  }

  /**
   * Settles once OpenClaw's current process logs that it takes connections, or ends (at once without a
   * process). A hint, not readiness: a tenant's own processes could write that line too, so it only ever
   * brings one retry forward.
   */
  whenAccepting(): Promise<void> {
    return this.run?.accepting.promise ?? Promise.resolve();
  }

  /** Hears every state change (synchronously); returns the unsubscribe function. */
  onStateChange(listener: (state: CellState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private notifyLost(reason: string, code?: number): void {
    for (const listener of [...this.listeners]) listener.cellLost(reason, code);
    this.listeners.clear();
  }

  /** Binds a listener to the current process; it hears when that process goes away. */
  attach(listener: CellListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once the cell is ready, starting it if it failed by crashing. Rejects with the cell's
   * config error, or with a retryable `BACKEND_UNAVAILABLE` (with `retryAfterMs`) when it is not
   * ready within `timeoutMs`.
   */
  async waitReady(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.state === 'failed' && this.failure?.code !== 'CONFIG_INVALID') {
      // A cell that gave up after crashes gets a fresh series of attempts from the next client.
      this.failures = 0;
      this.start();
    }
    for (;;) {
      if (this.state === 'ready') return;
      if (this.state === 'failed')
        throw (
          this.failure ?? new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway failed to start.', { retryAfterMs: 5_000 })
        );
      if (this.state === 'stopping' || this.state === 'stopped') {
        throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway is stopping; reconnect shortly.', {
          retryAfterMs: 2_000,
          details: { reason: 'cell-stopping' },
        });
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) {
        const elapsed = Date.now() - (this.startedAt ?? Date.now());
        throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway is starting; retry shortly.', {
          retryAfterMs: Math.min(30_000, Math.max(1_000, this.expectedStartMs - elapsed)),
          details: { reason: 'cold-start' },
        });
      }
      await Promise.race([this.stateChanged.promise, delay(left, signal)]);
    }
  }

  /** Applies a changed tenant config: rewrites the file (OpenClaw reloads it) and retries a cell that refused its config. */
  async reconfigure(config: TenantConfig): Promise<void> {
    this.config = config;
    if (this.configFile === undefined) return;
    const changed = await this.renderConfig();
    if (changed && this.state === 'failed') {
      this.failures = 0;
      this.start();
    }
  }

  /** After a tenant replaced its whole config: put the operator's locked keys back. */
  async restoreLockedConfig(): Promise<void> {
    await this.configFile?.restoreLocked();
  }

  /**
   * Stops the process: SIGTERM to its group (in a sandbox, to OpenClaw's processes: see `askGroupToStop`),
   * SIGKILL after `stopTimeoutMs`; then nothing of the
   * tenant's user runs. `lost` is what bridged clients are told (default: the cell stopped, reconnect).
   */
  async stop(lost?: { reason: string; code: number }): Promise<void> {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.setState('stopping');
    // Clients hear why before the process goes (its exit would otherwise read as a restart).
    if (lost !== undefined) this.notifyLost(lost.reason, lost.code);
    const run = this.run;
    if (run?.alive && run.child.pid !== undefined) {
      run.aborter.abort();
      await askGroupToStop(run.child.pid, this.settings.sandbox !== undefined);
      const graceful = await Promise.race([run.exited.then(() => true), sleep(this.settings.stopTimeoutMs).then(() => false)]);
      if (!graceful) {
        this.settings.log.warn(`OpenClaw gateway of ${this.tenantId} did not stop within ${this.settings.stopTimeoutMs} ms; killing it.`);
        signalGroup(run.child.pid, 'SIGKILL');
        await Promise.race([run.exited, sleep(5_000)]);
      }
    }
    this.run = undefined;
    this.notifyLost('tenant gateway stopped');
    if (this.user !== undefined) await killUserProcesses(this.user.uid);
    await this.disconnectModels();
    if (this.runDir !== undefined) await removeCellRunDir(this.runDir).catch(() => undefined);
    this.setState('stopped');
  }

  private async disconnectModels(): Promise<void> {
    this.modelCredential?.revoke();
    this.modelCredential = undefined;
    await this.modelSocket
      ?.close()
      .catch((error: unknown) => this.settings.log.warn(`${this.tenantId}: closing the model socket failed:`, error));
    this.modelSocket = undefined;
  }

  /** A snapshot for operators. */
  info(): CellInfo {
    return {
      tenantId: this.tenantId,
      state: this.state,
      ...(this.run?.child.pid === undefined ? {} : { pid: this.run.child.pid, port: this.run.port }),
      ...(this.user === undefined ? {} : { user: this.user }),
      ...(this.settings.sandbox === undefined ? {} : { sandbox: { egress: this.settings.sandbox.egress } }),
      starts: this.starts,
      crashes: this.crashes,
      ...(this.startedAt === undefined ? {} : { startedAt: this.startedAt }),
      ...(this.readyAt === undefined ? {} : { readyAt: this.readyAt }),
      ...(this.run?.accepting.at === undefined ? {} : { acceptingAt: this.run.accepting.at }),
      ...(this.run?.primed === true ? { primed: true } : {}),
      ...(this.lastExit === undefined ? {} : { lastExit: this.lastExit }),
      ...(this.failure === undefined ? {} : { error: { code: this.failure.code, message: this.failure.message } }),
    };
  }

  /** Resident memory of the cell's processes, in bytes (0 when not running). */
  async memory(): Promise<number> {
    return this.processUsage(await listProcesses()).rssBytes;
  }

  /** Memory and CPU time of the cell's whole process tree, from `table` (one `/proc` listing shared by every cell measured at once). */
  processUsage(table: readonly ProcessEntry[]): { rssBytes: number; anonBytes: number; cpuSeconds: number } {
    const pid = this.run?.child.pid;
    if (pid === undefined) return { rssBytes: 0, anonBytes: 0, cpuSeconds: 0 };
    return cellProcessUsage(table, { rootPid: pid, ...(this.user === undefined ? {} : { uid: this.user.uid }) });
  }

  /**
   * Memory, CPU time and disk the cell uses, from `/proc` (`table`: one listing shared by every cell
   * measured at once) and its directories. The processes are the cell's whole tree: the sandbox, its
   * relay, the gateway and every helper, and anything left running as the tenant's user. The disk
   * walk is reused for `diskMaxAgeMs` (it reads every file's metadata).
   */
  async usage(table?: readonly ProcessEntry[], diskMaxAgeMs = 0): Promise<CellUsage> {
    const processes = this.processUsage(table ?? (await listProcesses()));
    const disk = await this.diskUsage(diskMaxAgeMs);
    return {
      tenantId: this.tenantId,
      rssBytes: processes.rssBytes,
      anonBytes: processes.anonBytes,
      cpuSeconds: Math.round(processes.cpuSeconds * 100) / 100,
      diskBytes: disk.totalBytes,
      storedBytes: disk.totalBytes - Math.min(disk.cacheBytes, CELL_CACHE_ALLOWANCE_BYTES),
    };
  }

  private diskUsage(maxAgeMs: number): Promise<TreeDiskUsage> {
    const now = Date.now();
    if (this.disk === undefined || now - this.disk.at > maxAgeMs) {
      const caches = [join(this.paths.stateDir, 'cache'), this.paths.tmpDir];
      this.disk = { at: now, usage: treeDiskUsage(this.paths.root, caches) };
    }
    return this.disk.usage;
  }
}

function redact(line: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = line;
  for (const secret of secrets) if (secret !== undefined) out = out.replaceAll(secret, '[redacted]');
  return out;
}

function settleAccepting(run: Run): void {
  run.accepting.settled = true;
  run.accepting.resolve();
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
