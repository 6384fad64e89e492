import { MultiTenantError } from '@openclaw-mt/core';

/**
 * What one OpenClaw cell is planned at until one has been measured: 768 MiB. An idle 2026.9.6 cell tree (sandbox and
 * gateway with its SQLite reader) measured 617 MiB RSS with the defaults, 535–574 MiB once quiet, ~70 MiB less of it
 * its own (anonymous) memory, which is what is measured and planned with; chat turns add 150–350 MB.
 */
export const DEFAULT_CELL_MEMORY_BYTES = 768 * 1024 ** 2;

/**
 * How many cells fit a memory budget: the number to give the TenantManager as `capacity`, so its LRU
 * decides which tenants' gateways run. Throws `CONFIG_INVALID` when the budget holds no cell at all.
 */
export function capacityForMemoryBudget(bytes: number, perCellBytes: number = DEFAULT_CELL_MEMORY_BYTES): number {
  if (!Number.isFinite(bytes) || bytes <= 0)
    throw new MultiTenantError('CONFIG_INVALID', `memory budget: expected a positive number of bytes, got ${String(bytes)}.`);
  if (!Number.isFinite(perCellBytes) || perCellBytes <= 0) {
    throw new MultiTenantError('CONFIG_INVALID', `memory per cell: expected a positive number of bytes, got ${String(perCellBytes)}.`);
  }
  const cells = Math.floor(bytes / perCellBytes);
  if (cells < 1) {
    throw new MultiTenantError(
      'CONFIG_INVALID',
      `A memory budget of ${bytes} bytes holds no OpenClaw cell (each needs about ${perCellBytes} bytes).`,
      {
        details: { bytes, perCellBytes },
      },
    );
  }
  return cells;
}

/**
 * The memory one cell needs, for capacity and admission: the average tree memory of the ready cells last
 * measured (their anonymous memory, as the runtime measures it), and the documented default until a ready
 * cell has been measured. A measurement with no ready cell keeps the previous average.
 */
export class CellMemoryEstimate {
  private measured: number | undefined;

  constructor(readonly defaultBytes: number = DEFAULT_CELL_MEMORY_BYTES) {
    if (!Number.isFinite(defaultBytes) || defaultBytes <= 0)
      throw new MultiTenantError('CONFIG_INVALID', `memory per cell: expected a positive number of bytes, got ${String(defaultBytes)}.`);
  }

  /** Takes the tree memory of every ready cell measured now (zeros, cells without a process, are ignored). */
  observe(readyCellBytes: readonly number[]): void {
    const live = readyCellBytes.filter((bytes) => bytes > 0);
    if (live.length > 0) this.measured = Math.round(live.reduce((sum, bytes) => sum + bytes, 0) / live.length);
  }

  /** The measured average, `undefined` until a ready cell was measured. */
  get measuredBytes(): number | undefined {
    return this.measured;
  }

  /** What to plan with: the measured average, else the default. */
  get bytes(): number {
    return this.measured ?? this.defaultBytes;
  }
}

/** How many cells fit a budget at `perCellBytes` each, never less than one (a capacity to follow at run time). */
export function cellsForBudget(budgetBytes: number, perCellBytes: number): number {
  return Math.max(1, Math.floor(budgetBytes / perCellBytes));
}

/** What admitting one more cell is checked against. */
export interface MemoryAdmission {
  /** Memory for all cells, when the operator set a budget. */
  budgetBytes?: number;
  /** The host's available memory now, and the least that must stay available. */
  host?: { availableBytes: number; reserveBytes: number };
  /** What a new cell is expected to take. */
  perCellBytes: number;
  /** Tree memory of every other live cell, as the estimate counts it (a starting cell counts as at least `perCellBytes`). */
  liveCellBytes: readonly number[];
}

/**
 * Refuses a new cell with a retryable `CAPACITY` error when starting it would exceed the memory
 * budget, or leave the host less available memory than the reserve; `undefined` when it fits.
 */
export function memoryAdmissionError(admission: MemoryAdmission): MultiTenantError | undefined {
  const { perCellBytes } = admission;
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  if (admission.budgetBytes !== undefined) {
    const committed = admission.liveCellBytes.reduce((sum, bytes) => sum + Math.max(bytes, perCellBytes), 0);
    if (committed + perCellBytes > admission.budgetBytes) {
      return new MultiTenantError(
        'CAPACITY',
        `Starting another OpenClaw gateway would exceed the memory budget for cells (${mib(committed)} MiB in use of ${mib(admission.budgetBytes)} MiB, ~${mib(perCellBytes)} MiB more needed); retry shortly.`,
        {
          retryAfterMs: 5_000,
          details: { reason: 'memory-budget', budgetBytes: admission.budgetBytes, committedBytes: committed, perCellBytes },
        },
      );
    }
  }
  if (admission.host !== undefined && admission.host.availableBytes - perCellBytes < admission.host.reserveBytes) {
    return new MultiTenantError(
      'CAPACITY',
      `The host is low on memory (${mib(admission.host.availableBytes)} MiB available, ~${mib(perCellBytes)} MiB needed for another OpenClaw gateway and ${mib(admission.host.reserveBytes)} MiB kept free); retry shortly.`,
      {
        retryAfterMs: 5_000,
        details: {
          reason: 'host-memory',
          availableBytes: admission.host.availableBytes,
          reserveBytes: admission.host.reserveBytes,
          perCellBytes,
        },
      },
    );
  }
  return undefined;
}
