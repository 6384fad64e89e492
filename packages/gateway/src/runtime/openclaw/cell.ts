import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import type { ConsolaInstance } from 'consola';
import { MultiTenantError, isMultiTenantError, type TenantConfig } from '@openclaw-mt/core';
import { CellConfigFile, cellPaths, enforcedConfig, managedConfigOf, type CellPaths, type JsonObject } from './cell-config.js';
import { waitForChallenge } from './cell-readiness.js';
import { OutputTail } from './output-tail.js';
import type { PortAllocator } from './port-allocator.js';
import { groupMemory, killUserProcesses, signalGroup } from './process-table.js';
import type { OpenClawInstall } from './runtime-install.js';
import { tenantFileIO } from './tenant-file-io.js';
import { ensureDirectory, grantTraverse, handTreeTo } from './tenant-ownership.js';
import { ensureTenantUser, type TenantUser } from './tenant-user.js';

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
  /** Extra environment for every cell (for example provider keys). */
  env: Readonly<Record<string, string>>;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  restart: Required<RestartPolicy>;
  log: ConsolaInstance;
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
  /** Processes started so far. */
  starts: number;
  /** Exits nobody asked for. */
  crashes: number;
  startedAt?: number;
  readyAt?: number;
  lastExit?: { code: number | null; signal: string | null; at: number };
  error?: { code: string; message: string };
  /** The bridge's spare connection to the cell (absent when spares are off). */
  spares?: CellSpareInfo;
}

/** The bridge's warm, already-authenticated connection to a cell, kept for the next client. */
export interface CellSpareInfo {
  /** A spare is open and can be handed to the next client whose role and scopes match it. */
  ready: boolean;
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
  /** The process this listener was bound to is gone. */
  cellLost(reason: string): void;
}

interface Run {
  child: ChildProcess;
  port: number;
  token: string;
  aborter: AbortController;
  exited: Promise<void>;
  alive: boolean;
}

// Cell environment: nothing of the gateway's own environment (it may hold the service token,
// peppers or Redis credentials) except what a Node program needs to run.
const PASSED_ENV = ['LANG', 'LC_ALL', 'TZ'];

/**
 * One tenant's OpenClaw gateway: a child process with its own state, config, workspace, port, token
 * and (as root) OS user. Starts on demand, reports readiness by the `connect.challenge` event,
 * restarts after crashes with capped backoff, treats exit code 78 as a config error, and stops
 * gracefully (SIGTERM, then SIGKILL).
 */
export class OpenClawCell {
  readonly paths: CellPaths;
  private state: CellState = 'stopped';
  private run: Run | undefined;
  private user: TenantUser | undefined;
  private configFile: CellConfigFile | undefined;
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

  constructor(
    readonly tenantId: string,
    root: string,
    private config: TenantConfig,
    private readonly settings: CellSettings,
  ) {
    this.paths = cellPaths(root);
  }

  /**
   * Gets the tenant's tree ready (OS user, directories, ownership, config file). Throws a coded error
   * (which aborts the activation) for anything the tenant cannot fix by retrying.
   */
  async prepare(): Promise<void> {
    const { settings, paths } = this;
    if (settings.osUsers) {
      this.user = await ensureTenantUser(this.tenantId);
      // Nothing of a previous life may still run as this user while we touch its files.
      await killUserProcesses(this.user.uid);
      await grantTraverse(paths.root);
    }
    for (const dir of [paths.workspaceDir, paths.stateDir, paths.homeDir, paths.tmpDir, paths.logDir]) await ensureDirectory(dir);
    if (this.user !== undefined) {
      // The store's own metadata stays the gateway's.
      const report = await handTreeTo(paths.root, this.user, ['.openclaw-mt']);
      if (report.skipped.length > 0) settings.log.warn(`${this.tenantId}: left ${report.skipped.length} multiply-linked file(s) untouched.`);
    }
    this.configFile = new CellConfigFile(tenantFileIO(this.user, settings.install.nodePath), paths.configPath, settings.lockedPaths, (backup, reason) =>
      settings.log.warn(`${this.tenantId}: openclaw.json could not be read (${reason}); kept it as ${backup} and started from the defaults.`),
    );
    await this.renderConfig();
  }

  private async renderConfig(): Promise<boolean> {
    return this.configFile!.render({
      defaults: this.settings.defaults,
      managed: managedConfigOf(this.config, this.settings.configKey),
      enforced: enforcedConfig(this.paths),
    });
  }

  /** The config as last rendered (the reference for locked keys). */
  get renderedConfig(): JsonObject {
    return this.configFile?.rendered ?? {};
  }

  /** The port and private token of the running process, for the bridge (never for clients). */
  get endpoint(): { port: number; token: string } | undefined {
    return this.state === 'ready' && this.run !== undefined ? { port: this.run.port, token: this.run.token } : undefined;
  }

  /** Starts a process unless one is starting or running. */
  start(): void {
    if (this.state === 'starting' || this.state === 'ready' || this.state === 'stopping') return;
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.failure = undefined;
    this.setState('starting');
    void this.launch().catch((error: unknown) => this.fail(isMultiTenantError(error) ? error : new MultiTenantError('INTERNAL', `Starting the OpenClaw gateway of ${this.tenantId} failed.`, { cause: error })));
  }

  private async launch(): Promise<void> {
    const { settings, paths } = this;
    const port = await settings.ports.allocate();
    if (this.state !== 'starting') {
      settings.ports.release(port);
      return;
    }
    const token = randomBytes(32).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      PATH: `${dirname(settings.install.nodePath)}${delimiter}${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      OPENCLAW_SKIP_CHANNELS: '1',
      OPENCLAW_DISABLE_BONJOUR: '1',
      OPENCLAW_NO_RESPAWN: '1',
      OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
      OPENCLAW_NO_AUTO_UPDATE: '1',
      ...Object.fromEntries(PASSED_ENV.filter((key) => process.env[key] !== undefined).map((key) => [key, process.env[key]])),
      ...settings.env,
      // Last, so no operator setting can move a cell out of its tenant's tree or change its credential.
      HOME: paths.homeDir,
      TMPDIR: paths.tmpDir,
      OPENCLAW_STATE_DIR: paths.stateDir,
      OPENCLAW_CONFIG_PATH: paths.configPath,
      OPENCLAW_WORKSPACE_DIR: paths.workspaceDir,
      OPENCLAW_GATEWAY_TOKEN: token,
    };
    // The token travels by environment (readable only by the cell's own user), never on the command line.
    const args = [settings.install.entryPath, 'gateway', 'run', '--allow-unconfigured', '--auth', 'token', '--bind', 'loopback', '--port', String(port)];
    this.tail.clear();
    this.starts++;
    this.startedAt = Date.now();
    this.readyAt = undefined;
    const child = spawn(settings.install.nodePath, args, {
      cwd: paths.workspaceDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.user === undefined ? {} : { uid: this.user.uid, gid: this.user.gid }),
    });
    let exited!: () => void;
    const run: Run = { child, port, token, aborter: new AbortController(), exited: new Promise<void>((resolve) => (exited = resolve)), alive: true };
    this.run = run;
    const onOutput = (chunk: Buffer) => {
      for (const line of this.tail.push(chunk)) settings.log.debug(`[${this.tenantId}] ${line.replaceAll(token, '[redacted]')}`);
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('error', (error) => {
      this.tail.push(`spawn failed: ${error.message}\n`);
      if (child.pid === undefined) this.onExit(run, null, null, exited);
    });
    child.once('exit', (code, signal) => this.onExit(run, code, signal, exited));
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
    this.settings.ports.release(run.port);
    this.lastExit = { code, signal, at: Date.now() };
    exited();
    if (this.run !== run) return;
    this.run = undefined;
    this.notifyLost(code === 0 ? 'tenant gateway stopped' : 'tenant gateway restarting');
    if (this.state === 'stopping') return;
    this.crashes++;
    if (this.user !== undefined) void killUserProcesses(this.user.uid);
    const secrets = [run.token];
    if (code === 78) {
      this.fail(
        new MultiTenantError('CONFIG_INVALID', `The OpenClaw gateway of ${this.tenantId} refused its configuration:\n${this.tail.text(secrets, 12)}`, {
          details: { reason: 'openclaw-config', exitCode: 78 },
        }),
      );
      return;
    }
    const ranFor = this.readyAt === undefined ? 0 : Date.now() - this.readyAt;
    this.failures = ranFor >= this.settings.restart.stableAfterMs ? 1 : this.failures + 1;
    this.settings.log.warn(`OpenClaw gateway of ${this.tenantId} exited (${signal ?? `code ${code}`}); failure ${this.failures} of ${this.settings.restart.maxAttempts}.\n${this.tail.text(secrets, 8)}`);
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
    const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** (this.failures - 1));
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

  /** Hears every state change (synchronously); returns the unsubscribe function. */
  onStateChange(listener: (state: CellState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private notifyLost(reason: string): void {
    for (const listener of [...this.listeners]) listener.cellLost(reason);
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
      if (this.state === 'failed') throw this.failure ?? new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway failed to start.', { retryAfterMs: 5_000 });
      if (this.state === 'stopping' || this.state === 'stopped') {
        throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway is stopping; reconnect shortly.', { retryAfterMs: 2_000, details: { reason: 'cell-stopping' } });
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

  /** Stops the process: SIGTERM to its group, SIGKILL after `stopTimeoutMs`; then nothing of the tenant's user runs. */
  async stop(): Promise<void> {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.setState('stopping');
    const run = this.run;
    if (run?.alive && run.child.pid !== undefined) {
      run.aborter.abort();
      signalGroup(run.child.pid, 'SIGTERM');
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
    this.setState('stopped');
  }

  /** A snapshot for operators. */
  info(): CellInfo {
    return {
      tenantId: this.tenantId,
      state: this.state,
      ...(this.run?.child.pid === undefined ? {} : { pid: this.run.child.pid, port: this.run.port }),
      ...(this.user === undefined ? {} : { user: this.user }),
      starts: this.starts,
      crashes: this.crashes,
      ...(this.startedAt === undefined ? {} : { startedAt: this.startedAt }),
      ...(this.readyAt === undefined ? {} : { readyAt: this.readyAt }),
      ...(this.lastExit === undefined ? {} : { lastExit: this.lastExit }),
      ...(this.failure === undefined ? {} : { error: { code: this.failure.code, message: this.failure.message } }),
    };
  }

  /** Resident memory of the cell's processes, in bytes (0 when not running). */
  async memory(): Promise<number> {
    const pid = this.run?.child.pid;
    return pid === undefined ? 0 : groupMemory(pid);
  }
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
