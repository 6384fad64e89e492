import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, isMultiTenantError } from '@openclaw-mt/core';
import {
  cellProcessUsage,
  CellMemoryEstimate,
  cellsForBudget,
  followMemoryCapacity,
  memoryAdmissionError,
  openClawRuntimeOptionsFromSettings,
  parseOpenClawRuntimeSettings,
  treeDiskUsage,
  type ProcessEntry,
} from '@openclaw-mt/runtime-openclaw';

const MiB = 2 ** 20;
const quiet = createLogger({ level: 0 });

/** A process whose RSS holds `rssMiB`, 1 MiB of it mapped from files (its binary). */
function proc(pid: number, ppid: number, pgid: number, uid: number, rssMiB: number, cpuSeconds = 1): ProcessEntry {
  return { pid, ppid, pgid, uid, rssBytes: rssMiB * MiB, anonBytes: (rssMiB - 1) * MiB, cpuSeconds };
}

describe("a cell's process tree", () => {
  // 100: bwrap (the cell's root, its own group); 101: relay; 102: gateway in a group of its own
  // (setsid inside the sandbox); 103: a helper of the gateway; 200: a daemon of the tenant's user,
  // reparented to init; 300: another tenant's cell; 1: init.
  const table = [
    proc(1, 0, 1, 0, 10),
    proc(100, 50, 100, 0, 2),
    proc(101, 100, 100, 1001, 40),
    proc(102, 101, 102, 1001, 600),
    proc(103, 102, 102, 1001, 100),
    proc(200, 1, 200, 1001, 5),
    proc(300, 50, 300, 1002, 700),
  ];

  it('counts the root, every descendant whatever its group, and what runs as the tenant user', () => {
    expect(cellProcessUsage(table, { rootPid: 100, uid: 1001 })).toEqual({
      rssBytes: 747 * MiB,
      anonBytes: 742 * MiB,
      cpuSeconds: 5,
      processes: 5,
    });
  });

  it("without a tenant user, the tree alone; never root's or other tenants' processes", () => {
    expect(cellProcessUsage(table, { rootPid: 100 })).toMatchObject({ rssBytes: 742 * MiB, processes: 4 });
    expect(cellProcessUsage(table, { rootPid: 100, uid: 0 })).toMatchObject({ processes: 4 });
    expect(cellProcessUsage(table, { rootPid: 999 })).toEqual({ rssBytes: 0, anonBytes: 0, cpuSeconds: 0, processes: 0 });
  });
});

describe('disk usage with caches told apart', () => {
  const made: string[] = [];
  afterEach(async () => {
    for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('reports the bytes under cache directories on their own, inside the total', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ocmt-cost-'));
    made.push(root);
    await mkdir(join(root, 'agent', 'cache'), { recursive: true });
    await mkdir(join(root, 'workspace'), { recursive: true });
    await writeFile(join(root, 'workspace', 'notes.bin'), Buffer.alloc(2 * MiB, 1));
    await writeFile(join(root, 'agent', 'cache', 'ui.bin'), Buffer.alloc(3 * MiB, 1));
    const usage = await treeDiskUsage(root, [join(root, 'agent', 'cache')]);
    expect(usage.cacheBytes).toBeGreaterThanOrEqual(3 * MiB);
    expect(usage.cacheBytes).toBeLessThan(3.5 * MiB);
    expect(usage.totalBytes - usage.cacheBytes).toBeGreaterThanOrEqual(2 * MiB);
    expect(usage.totalBytes - usage.cacheBytes).toBeLessThan(2.5 * MiB);
  });
});

describe('memory per cell and capacity', () => {
  it('plans with the default until a ready cell is measured, then with the average of those measured', () => {
    const estimate = new CellMemoryEstimate(800 * MiB);
    expect(estimate.bytes).toBe(800 * MiB);
    expect(estimate.measuredBytes).toBeUndefined();
    estimate.observe([0]);
    expect(estimate.measuredBytes).toBeUndefined();
    estimate.observe([600 * MiB, 700 * MiB, 0]);
    expect(estimate.bytes).toBe(650 * MiB);
    // No ready cell now: the last average stays.
    estimate.observe([]);
    expect(estimate.bytes).toBe(650 * MiB);
    expect(() => new CellMemoryEstimate(0)).toThrow(/memory per cell/);
  });

  it('a budget holds whole cells, at least one', () => {
    expect(cellsForBudget(16 * 1024 * MiB, 650 * MiB)).toBe(25);
    expect(cellsForBudget(100 * MiB, 650 * MiB)).toBe(1);
  });

  it('admits a cell that fits the budget and the host; refuses with a retryable CAPACITY otherwise', () => {
    const base = { perCellBytes: 500 * MiB, liveCellBytes: [600 * MiB, 100 * MiB] };
    // Committed: 600 + max(100, 500) = 1100 MiB; one more makes 1600.
    expect(memoryAdmissionError({ ...base, budgetBytes: 1600 * MiB })).toBeUndefined();
    const overBudget = memoryAdmissionError({ ...base, budgetBytes: 1500 * MiB })!;
    expect(isMultiTenantError(overBudget, 'CAPACITY')).toBe(true);
    expect(overBudget.retryable).toBe(true);
    expect(overBudget.details).toMatchObject({ reason: 'memory-budget', committedBytes: 1100 * MiB });
    const host = { availableBytes: 1400 * MiB, reserveBytes: 1024 * MiB };
    const lowHost = memoryAdmissionError({ ...base, host })!;
    expect(lowHost.details).toMatchObject({ reason: 'host-memory', availableBytes: 1400 * MiB });
    expect(memoryAdmissionError({ ...base, host: { ...host, availableBytes: 1600 * MiB } })).toBeUndefined();
  });

  it('the capacity follows the measured memory per cell', async () => {
    const applied: number[] = [];
    let perCell = 1024 * MiB;
    const follower = followMemoryCapacity({
      budgetBytes: 8 * 1024 * MiB,
      capacityFor: async (budget) => cellsForBudget(budget, perCell),
      setCapacity: (wanted) => {
        applied.push(wanted);
        return wanted;
      },
      intervalMs: 3_600_000,
      log: quiet,
    });
    expect(await follower.update()).toBe(8);
    perCell = 512 * MiB;
    expect(await follower.update()).toBe(16);
    follower.stop();
    expect(applied).toEqual([8, 16]);
  });

  it('the settings block passes the budget, per-cell memory, host reserve and disk interval to the runtime', () => {
    const settings = parseOpenClawRuntimeSettings({
      memoryBudgetBytes: 4 * 1024 * MiB,
      cellMemoryBytes: 512 * MiB,
      hostMemoryReserveBytes: 256 * MiB,
      diskCheckIntervalMs: 5_000,
    });
    const { options, capacity, memoryBudgetBytes } = openClawRuntimeOptionsFromSettings(settings);
    expect(capacity).toBe(8);
    expect(memoryBudgetBytes).toBe(4 * 1024 * MiB);
    expect(options).toMatchObject({
      memoryBudgetBytes: 4 * 1024 * MiB,
      cellMemoryBytes: 512 * MiB,
      hostMemoryReserveBytes: 256 * MiB,
      diskCheckIntervalMs: 5_000,
    });
  });

  it('the settings block takes a count of pre-booted cells (the host gives them a directory) and refuses a bad one', () => {
    const { options, warmCells } = openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings({ warmCells: 2 }));
    expect(warmCells).toBe(2);
    expect(options).not.toHaveProperty('warmCells');
    for (const bad of [-1, 1.5, 65, '2'])
      expect(() => parseOpenClawRuntimeSettings({ warmCells: bad })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('warmCells') }),
      );
  });

  it('the settings block takes a count of primed processes (the host gives them a directory) and refuses a bad one', () => {
    const { options, primedProcesses } = openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings({ primedProcesses: 1 }));
    expect(primedProcesses).toBe(1);
    expect(options).not.toHaveProperty('primedProcesses');
    for (const bad of [-1, 0.5, 65, '1'])
      expect(() => parseOpenClawRuntimeSettings({ primedProcesses: bad })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('primedProcesses') }),
      );
  });
});
