import { MultiTenantError } from '@openclaw-mt/core';

/** Resident memory of one OpenClaw gateway cell, as measured for 2026.9.6 (gateway plus helpers, ~1 GB). */
export const DEFAULT_CELL_MEMORY_BYTES = 1024 ** 3;

/**
 * How many cells fit a memory budget: the number to give the TenantManager as `capacity`, so its LRU
 * decides which tenants' gateways run. Throws `CONFIG_INVALID` when the budget holds no cell at all.
 */
export function capacityForMemoryBudget(bytes: number, perCellBytes: number = DEFAULT_CELL_MEMORY_BYTES): number {
  if (!Number.isFinite(bytes) || bytes <= 0) throw new MultiTenantError('CONFIG_INVALID', `memory budget: expected a positive number of bytes, got ${String(bytes)}.`);
  if (!Number.isFinite(perCellBytes) || perCellBytes <= 0) {
    throw new MultiTenantError('CONFIG_INVALID', `memory per cell: expected a positive number of bytes, got ${String(perCellBytes)}.`);
  }
  const cells = Math.floor(bytes / perCellBytes);
  if (cells < 1) {
    throw new MultiTenantError('CONFIG_INVALID', `A memory budget of ${bytes} bytes holds no OpenClaw cell (each needs about ${perCellBytes} bytes).`, {
      details: { bytes, perCellBytes },
    });
  }
  return cells;
}
