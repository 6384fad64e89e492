import { TenantManager } from '@openclaw-mt/core';
import { type Benchmark, round } from './harness.js';
import { inertStores } from './inert-stores.js';

const TENANTS = 100_000;

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** 6 — heap held by the manager per resident tenant, with 100,000 resident. */
export const memoryPerTenant: Benchmark = {
  id: 6,
  title: 'Memory per resident tenant (manager bookkeeping, 100,000 resident)',
  floor: 'none (absolute goal)',
  async run() {
    const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(6, '0')}`);
    const manager = new TenantManager({ ...inertStores(), capacity: TENANTS, idleTimeoutMs: 30 * 60_000 });
    const before = heapAfterGc();
    for (const id of ids) (await manager.acquire(id)).release();
    const after = heapAfterGc();
    const perTenant = (after - before) / TENANTS;
    const resident = manager.stats().resident;
    await manager.close();
    return {
      figures: [
        { label: 'resident tenants', value: resident, unit: '' },
        { label: 'heap per resident tenant (idle timer armed, auth cache empty)', value: round(perTenant, 0), unit: 'bytes' },
      ],
      ratio: round(perTenant / 1024, 2),
      goal: { op: '<=', value: 2 },
      ratioMeaning: 'KiB per resident tenant',
      notes: ['Tenant ids are preallocated, so their strings are not counted; configs are the shared operator defaults.'],
    };
  },
};
