import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TenantConfig } from '@openclaw-mt/core';
import { cellPaths } from '../config/cell-config.js';
import { hasNoCellState, recoverWarmTree } from '../os/warm-tree.js';
import { OpenClawCell, type CellInfo, type CellSettings } from './cell.js';
import { warmUp } from './warm-up.js';
import type { ProcessEntry, ResidentMemory } from '../os/process-table.js';
import { CellSpares, type SpareSettings } from '../bridge/cell-spares.js';

/** A pre-booted cell as operators see it. */
export interface WarmCellInfo extends CellInfo {
  /**
   * Offered to the next new tenant: OpenClaw answers a real connection (a spare was opened, and none was dropped
   * since), not only its first `connect.challenge` (it refuses connections for seconds after that). A spare
   * replaced because it grew old or stale keeps the cell offered: the tenant's client waits for the next one.
   */
  offered: boolean;
  /**
   * Its warm-up turn ({@link warmUp}): `pending` until it is over, `done`, or `skipped` when the cell
   * cannot run one (no model gateway that holds a reserved credential's calls, or no chat turns).
   */
  warmUp?: WarmUpState;
}

/** Where a pre-booted cell's warm-up turn stands. */
export type WarmUpState = 'pending' | 'done' | 'skipped';

/** A pre-booted cell and its spare connection (which is what makes it ready for a client at once). */
export interface WarmCell {
  cell: OpenClawCell;
  spares: CellSpares | undefined;
  /** Set once the cell is first ready; offered only once the turn is over and nothing of it is left. */
  warmUp?: WarmUpState;
}

function isOffered({ cell, spares, warmUp }: WarmCell): boolean {
  return cell.info().state === 'ready' && (spares?.info().answering ?? true) && (warmUp === 'done' || warmUp === 'skipped');
}

/** Options of the pre-booted cells. */
export interface WarmCellOptions {
  /** How many ready cells to keep booted for tenants that have none yet. */
  count: number;
  /** Where their directories live: on the file system of the tenants' roots (claiming renames, never copies). */
  dir: string;
  /** Wait after a claim before booting its replacement, so the claimed cell's first turns get the CPU (default 10 s). */
  refillDelayMs?: number;
  /** Wait before booting again after a cell could not be booted (memory, say) or kept failing (default 30 s). */
  retryDelayMs?: number;
}

/**
 * OpenClaw gateways booted before any tenant asks, each in its own slot directory, sandbox and
 * account. A new tenant (no OpenClaw state yet) takes a ready one, which becomes its own in place
 * ({@link OpenClawCell.adopt}): the ~20 s of loading OpenClaw happened before the tenant connected.
 * A claimed cell is never given back; its replacement boots after `refillDelayMs`.
 */
export class WarmCells {
  private readonly slots = new Map<string, WarmCell>();
  private filling: Promise<void> | undefined;
  private refillTimer: NodeJS.Timeout | undefined;
  private recovered: Promise<void> | undefined;
  private closed = false;
  private serial = 0;

  constructor(
    private readonly options: WarmCellOptions,
    private readonly settings: CellSettings,
    /** Throws (a retryable `CAPACITY`) when one more cell would not fit memory. */
    private readonly admit: (name: string) => Promise<void>,
    /** The runtime's spare connections: a cell is offered once its spare is open (OpenClaw answers), not at its first challenge. */
    private readonly spareSettings: SpareSettings | undefined,
  ) {}

  private get retryDelayMs(): number {
    return this.options.retryDelayMs ?? 30_000;
  }

  /** How many pre-booted cells are kept. */
  get count(): number {
    return this.options.count;
  }

  /** Boots cells until `count` run (in the background; after a failure, logged, it tries again after `retryDelayMs`). */
  fill(): void {
    if (this.closed || this.filling !== undefined) return;
    this.filling = this.fillSlots()
      .catch((error: unknown) => {
        this.settings.log.warn(`Pre-booting an OpenClaw gateway failed; trying again in ${this.retryDelayMs} ms:`, error);
        this.scheduleRefill(this.retryDelayMs);
      })
      .finally(() => (this.filling = undefined));
  }

  private async fillSlots(): Promise<void> {
    this.recovered ??= this.recover();
    await this.recovered;
    while (!this.closed && this.slots.size < this.options.count) {
      const name = `warm-${++this.serial}`;
      await this.admit(name);
      const cell = new OpenClawCell(name, join(this.options.dir, name), {}, this.settings, true);
      this.slots.set(name, { cell, spares: undefined });
      try {
        await cell.prepare();
      } catch (error) {
        this.slots.delete(name);
        throw error;
      }
      if (this.closed) break;
      const warm: WarmCell = { cell, spares: this.spareSettings === undefined ? undefined : new CellSpares(cell, this.spareSettings) };
      this.slots.set(name, warm);
      // One that keeps crashing is dropped and, after a pause, replaced.
      const unsubscribe = cell.onStateChange((state) => {
        // Taken by a tenant (or closed): no longer the pool's to replace.
        if (this.slots.get(name) !== warm) return void unsubscribe();
        if (state === 'ready' && warm.warmUp === undefined) {
          warm.warmUp = 'pending';
          void this.runWarmUp(name, warm);
        }
        if (state !== 'failed') return;
        unsubscribe();
        this.replace(name, warm, `The pre-booted OpenClaw gateway ${name} keeps failing`);
      });
      cell.start();
    }
  }

  /** Drops a pre-booted cell that cannot be offered and, after a pause, boots another. */
  private replace(name: string, warm: WarmCell, why: string): void {
    if (this.slots.get(name) !== warm) return;
    this.slots.delete(name);
    this.settings.log.warn(`${why}; replacing it in ${this.retryDelayMs} ms.`);
    void this.discard(warm);
    this.scheduleRefill(this.retryDelayMs);
  }

  /**
   * Runs the cell's warm-up turn ({@link warmUp}) before it is offered: a new tenant's first message then
   * finds OpenClaw's agent loaded. A cell the turn could have left traces in is replaced.
   */
  private async runWarmUp(name: string, warm: WarmCell): Promise<void> {
    const { cell } = warm;
    const started = performance.now();
    try {
      const outcome = cell.canWarmUp
        ? await warmUp(
            { endpoint: cell.endpoint, stateDir: cell.paths.stateDir, nextModelRequest: (signal) => cell.nextModelRequest(signal) },
            {
              clientVersion: this.spareSettings?.clientVersion ?? 'openclaw-mt',
              ...(this.spareSettings?.device === undefined ? {} : { device: this.spareSettings.device }),
            },
          )
        : 'unsupported';
      if (outcome === 'done') this.settings.log.debug(`${name}: warmed up in ${Math.round(performance.now() - started)} ms`);
      warm.warmUp = outcome === 'done' ? 'done' : 'skipped';
    } catch (error) {
      if (this.closed || this.slots.get(name) !== warm) return;
      this.settings.log.warn(`${name}: the warm-up turn failed:`, error);
      this.replace(name, warm, `The pre-booted OpenClaw gateway ${name} could not be warmed up cleanly`);
    }
  }

  /** Puts back the files of claims a previous process did not finish, then clears every slot of it. */
  private async recover(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o711 });
    for (const name of await readdir(this.options.dir)) {
      const slot = cellPaths(join(this.options.dir, name));
      const root = await recoverWarmTree(slot, cellPaths);
      if (root !== undefined)
        this.settings.log.warn(`Put back the workspace files of ${root} from an unfinished claim of a pre-booted cell.`);
      await rm(slot.root, { recursive: true, force: true });
    }
  }

  /**
   * A ready cell made the tenant's, or `undefined` when none is ready or the tenant already has
   * OpenClaw state (then it starts its own). A cell whose claim fails is stopped and `undefined` returned.
   */
  async claim(tenantId: string, root: string, config: TenantConfig): Promise<WarmCell | undefined> {
    if (this.closed) return undefined;
    const warm = [...this.slots.values()].find(isOffered);
    if (warm === undefined) {
      this.settings.log.debug(`${tenantId}: no pre-booted OpenClaw gateway is offered (${this.why()}); starting its own.`);
      return undefined;
    }
    if (!(await hasNoCellState(cellPaths(root)))) return undefined;
    const { cell, spares } = warm;
    if (!this.slots.delete(cell.tenantId)) return undefined;
    this.scheduleRefill();
    const slot = cell.paths;
    try {
      await cell.adopt(tenantId, root, config);
      return warm;
    } catch (error) {
      spares?.close();
      await cell.stop();
      await recoverWarmTree(slot, cellPaths).catch(() => undefined);
      await rm(slot.root, { recursive: true, force: true }).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'EXDEV') {
        // Every claim would fail the same way: no more cells are booted for nothing.
        this.settings.log.warn(
          `Pre-booted cells are off: ${this.options.dir} is not on the file system of the tenants' directories (${root}), and a claim moves directories by renaming them.`,
        );
        await this.close();
        return undefined;
      }
      this.settings.log.warn(`${tenantId}: taking a pre-booted OpenClaw gateway failed; starting its own.`, error);
      return undefined;
    }
  }

  /** Why no slot is offered, for the log: each slot's state, warm-up and spare. */
  private why(): string {
    if (this.slots.size === 0) return 'the next one is not booted yet';
    return [...this.slots.values()]
      .map(({ cell, spares, warmUp }) => {
        const { state } = cell.info();
        // `stopped` until its process is spawned: being prepared.
        if (state === 'stopped' || state === 'starting') return `${cell.tenantId} booting`;
        if (state !== 'ready') return `${cell.tenantId} ${state}`;
        if (spares !== undefined && !spares.info().answering) return `${cell.tenantId} not answering yet`;
        return `${cell.tenantId} warm-up turn ${warmUp ?? 'pending'}`;
      })
      .join(', ');
  }

  private scheduleRefill(delayMs = this.options.refillDelayMs ?? 10_000): void {
    if (this.refillTimer !== undefined || this.closed) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.fill();
    }, delayMs);
    this.refillTimer.unref();
  }

  /** The pre-booted cells, as operators see them (named `warm-<n>`). */
  info(): WarmCellInfo[] {
    return [...this.slots.values()].map((warm) => ({
      ...warm.cell.info(),
      ...(warm.spares === undefined ? {} : { spares: warm.spares.info() }),
      offered: isOffered(warm),
      ...(warm.warmUp === undefined ? {} : { warmUp: warm.warmUp }),
    }));
  }

  /** Memory of every pre-booted cell's tree. */
  memory(table: readonly ProcessEntry[]): ResidentMemory[] {
    return [...this.slots.values()].map(({ cell }) => cell.processUsage(table));
  }

  /** Stops a pre-booted cell no tenant took and removes its directories. */
  private async discard({ cell, spares }: WarmCell): Promise<void> {
    spares?.close();
    await cell.stop();
    await rm(cell.paths.root, { recursive: true, force: true });
  }

  /** Stops every pre-booted cell and removes its directories. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    await this.filling;
    const warm = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(warm.map((slot) => this.discard(slot)));
  }
}
