import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { cellPaths } from '../config/cell-config.js';
import { cellProcessUsage, signalGroup, type ProcessEntry, type ResidentMemory } from '../os/process-table.js';
import type { TenantUser } from '../os/tenant-user.js';
import { SANDBOX_TENANT_ROOT } from '../sandbox/sandbox-command.js';
import {
  createPrimedSlot,
  mountTenant,
  removePrimedSlot,
  removePrimedSlots,
  type PrimedSlot,
  type TenantMounts,
} from '../sandbox/primed-slot.js';
import type { CellSettings } from './cell.js';
import { ACCEPTING_LINE, cellProcess } from './cell-launch.js';
import type { CompileCache } from './compile-cache.js';
import { preloadModules, type PreloadModule } from './module-list.js';
import { OutputTail } from './output-tail.js';

/** Options of the primed processes. */
export interface PrimedProcessOptions {
  /** How many to keep for tenants whose cell must start. */
  count: number;
  /** Where their placeholder directories (and the recorded module list) live; any local directory. */
  dir: string;
  /**
   * Wait after the taken process's OpenClaw takes connections (or ends, or a minute passed) before priming its
   * replacement, so that start gets the CPU (default 2 s).
   */
  refillDelayMs?: number;
  /** Wait before priming again after a process could not be primed or died waiting (default 30 s). */
  retryDelayMs?: number;
}

/** A primed process as operators see it. */
export interface PrimedProcessInfo {
  name: string;
  pid?: number;
  /** Its modules are loaded: the next tenant whose cell must start takes it. */
  primed: boolean;
  startedAt: number;
  primedAt?: number;
}

/** The line the relay writes once it loaded the modules it was given. */
const PRIMED_LINE = /^\[openclaw-mt\] primed:/;

/** The longest a taken process's start holds back its replacement. */
const START_HOLD_MS = 60_000;

/**
 * An OpenClaw process started in a sandbox before its tenant is known: it loaded OpenClaw's modules (a
 * start's slowest part) and waits, as root keeping only setuid/setgid, in placeholder directories.
 * {@link handOver} gives it a tenant's; until then it holds nothing of any tenant.
 */
export class PrimedProcess {
  readonly startedAt = Date.now();
  primedAt: number | undefined;
  /** Settles when the process has ended and its slot is gone. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private handedOver = false;
  private readonly tail = new OutputTail(12);
  private readonly onOutput = (chunk: Buffer) => {
    for (const line of this.tail.push(chunk)) {
      this.settings.log.debug(`[${this.name}] ${line}`);
      if (this.primedAt === undefined && PRIMED_LINE.test(line)) {
        this.primedAt = Date.now();
        this.onPrimed();
      }
    }
  };

  constructor(
    readonly name: string,
    private readonly slot: PrimedSlot,
    readonly child: ChildProcess,
    readonly port: number,
    private readonly settings: CellSettings,
    private readonly onPrimed: () => void,
  ) {
    child.stdout!.on('data', this.onOutput);
    child.stderr!.on('data', this.onOutput);
    // Nobody reads its stdin once it is gone.
    child.stdin!.on('error', () => undefined);
    this.ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('error', () => child.pid === undefined && resolve({ code: null, signal: null }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }).then(async (how) => {
      // Helpers share its process group; then the placeholders, with whatever a tenant's cell mounted on them.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      if (!this.handedOver) settings.ports.release(port);
      await removePrimedSlot(slot.root).catch((error: unknown) => settings.log.warn(`${name}: removing its directories failed:`, error));
      return how;
    });
  }

  /**
   * Settles once the OpenClaw it became says it takes connections (a hint read from its output, which is then a
   * tenant's: it only decides when the replacement is primed), or the process ended.
   */
  whenStarted(): Promise<void> {
    return new Promise((resolve) => {
      const tail = new OutputTail(4);
      const onOutput = (chunk: Buffer) => {
        if (!tail.push(chunk).some((line) => ACCEPTING_LINE.test(line))) return;
        this.child.stdout!.off('data', onOutput);
        resolve();
      };
      this.child.stdout!.on('data', onOutput);
      void this.ended.then(() => resolve());
    });
  }

  /** Whether it was handed to a cell: its port is the cell's to release from then on. */
  get taken(): boolean {
    return this.handedOver;
  }

  /** Whether it is alive and loaded. */
  get ready(): boolean {
    return this.primedAt !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its last lines, for a report of why it ended. */
  output(): string {
    return this.tail.text([]);
  }

  /**
   * Makes it a tenant's: the tenant's directories are mounted on its placeholders (it sees them at once),
   * then it is told to go as `user` with `env` (the cell's credentials). From then on its output, exit and
   * port are the cell's.
   */
  async handOver(tenant: TenantMounts, user: TenantUser | undefined, env: Record<string, string>): Promise<void> {
    if (!this.ready || this.handedOver) throw new Error(`${this.name} cannot be handed over`);
    this.child.stdout!.off('data', this.onOutput);
    this.child.stderr!.off('data', this.onOutput);
    await mountTenant(this.slot, tenant);
    const go = { ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }), env };
    this.handedOver = true;
    this.child.stdin!.end(`${JSON.stringify({ go })}\n`);
  }

  /** Ends it (its slot is removed once it is gone). */
  discard(): void {
    if (this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }

  info(): PrimedProcessInfo {
    return {
      name: this.name,
      ...(this.child.pid === undefined ? {} : { pid: this.child.pid }),
      primed: this.ready,
      startedAt: this.startedAt,
      ...(this.primedAt === undefined ? {} : { primedAt: this.primedAt }),
    };
  }
}

/**
 * Processes that loaded OpenClaw ahead, for tenants whose cell must start with state of their own (a
 * returning tenant: a pre-booted cell is only for a tenant with none). Taking one saves the seconds Node
 * spends loading OpenClaw's modules; OpenClaw then starts on the tenant's own state. Needs the sandbox and root.
 */
export class PrimedProcesses {
  private readonly pool = new Map<string, PrimedProcess>();
  private modules: Promise<PreloadModule[]> | undefined;
  private filling: Promise<void> | undefined;
  private refillTimer: NodeJS.Timeout | undefined;
  private recovered: Promise<void> | undefined;
  private closed = false;
  /** Ends a module recording under way when the pool closes. */
  private readonly closing = new AbortController();
  private serial = 0;

  constructor(
    private readonly options: PrimedProcessOptions,
    private readonly settings: CellSettings,
    /** Throws (a retryable `CAPACITY`) when one more process would not fit memory. */
    private readonly admit: (name: string) => Promise<void>,
  ) {}

  /** How many primed processes are kept. */
  get count(): number {
    return this.options.count;
  }

  /** Primes processes until `count` exist (in the background; after a failure, logged, it tries again after `retryDelayMs`). */
  fill(): void {
    if (this.closed || this.filling !== undefined) return;
    this.filling = this.fillPool()
      .catch((error: unknown) => {
        // Closing ends a recording under way: nothing failed.
        if (this.closed) return;
        this.settings.log.warn(`Priming an OpenClaw process failed; trying again in ${this.retryDelayMs} ms:`, error);
        this.scheduleRefill(this.retryDelayMs);
      })
      .finally(() => (this.filling = undefined));
  }

  private get retryDelayMs(): number {
    return this.options.retryDelayMs ?? 30_000;
  }

  private async fillPool(): Promise<void> {
    // Slots a previous gateway process left are unmounted and removed before anything else.
    this.recovered ??= removePrimedSlots(join(this.options.dir, 'slots'));
    this.recovered.catch(() => (this.recovered = undefined));
    await this.recovered;
    // Recorded with the shared compile cache when there is one: it loads faster, and primes faster.
    const compileCache = await this.settings.compileCache?.recorded;
    this.modules ??= preloadModules(this.settings, join(this.options.dir, 'modules'), this.closing.signal);
    this.modules.catch(() => (this.modules = undefined));
    const preload = await this.modules;
    while (!this.closed && this.pool.size < this.options.count) {
      const name = `primed-${++this.serial}`;
      await this.admit(name);
      if (this.closed) break;
      this.pool.set(name, await this.prime(name, preload, compileCache));
    }
  }

  private async prime(name: string, preload: readonly PreloadModule[], compileCache: CompileCache | undefined): Promise<PrimedProcess> {
    const { settings } = this;
    const slot = await createPrimedSlot(join(this.options.dir, 'slots', name), compileCache);
    const port = await settings.ports.allocate();
    let spawned: ChildProcess;
    try {
      const { file, args, env } = cellProcess({
        settings,
        port,
        inside: cellPaths(SANDBOX_TENANT_ROOT),
        host: { workspaceDir: slot.workspaceDir, stateDir: slot.stateDir, runDir: slot.runDir },
        mode: 'primed',
        ...(compileCache === undefined ? {} : { compileCache }),
      });
      spawned = spawn(file, args, { cwd: slot.root, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      settings.ports.release(port);
      await removePrimedSlot(slot.root);
      throw error;
    }
    const primed = new PrimedProcess(name, slot, spawned, port, settings, () =>
      settings.log.debug(`${name}: primed in ${Date.now() - primed.startedAt} ms`),
    );
    spawned.stdin!.write(`${JSON.stringify({ preload })}\n`);
    void primed.ended.then(({ code, signal }) => {
      // Taken (then it is a cell's) or closed: not the pool's to replace.
      if (this.pool.get(name) !== primed) return;
      this.pool.delete(name);
      settings.log.warn(
        `${name}: the primed OpenClaw process ended (${signal ?? `code ${code}`}) before a tenant took it:\n${primed.output()}`,
      );
      this.scheduleRefill(this.retryDelayMs);
    });
    return primed;
  }

  /** A primed process for a cell to start in, or `undefined` when none is ready. */
  take(): PrimedProcess | undefined {
    if (this.closed) return undefined;
    const primed = [...this.pool.values()].find((candidate) => candidate.ready);
    if (primed === undefined) return undefined;
    this.pool.delete(primed.name);
    // Its replacement waits for the start it now makes: both on 2 cores would slow that start by seconds.
    const hold = setTimeout(() => this.scheduleRefill(), START_HOLD_MS);
    hold.unref();
    void primed.whenStarted().then(() => {
      clearTimeout(hold);
      this.scheduleRefill();
    });
    return primed;
  }

  private scheduleRefill(delayMs = this.options.refillDelayMs ?? 2_000): void {
    if (this.refillTimer !== undefined || this.closed) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.fill();
    }, delayMs);
    this.refillTimer.unref();
  }

  /** The primed processes no tenant has taken yet (named `primed-<n>`). */
  info(): PrimedProcessInfo[] {
    return [...this.pool.values()].map((primed) => primed.info());
  }

  /** Memory of every primed process's tree. */
  memory(table: readonly ProcessEntry[]): ResidentMemory[] {
    return [...this.pool.values()].map(({ child }) =>
      child.pid === undefined ? { rssBytes: 0, anonBytes: 0 } : cellProcessUsage(table, { rootPid: child.pid }),
    );
  }

  /** Ends every primed process and removes its directories. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.refillTimer);
    await this.filling;
    const primed = [...this.pool.values()];
    this.pool.clear();
    for (const process of primed) process.discard();
    await Promise.all(primed.map((process) => process.ended));
  }
}
