import { TenantManager } from '@openclaw-mt/core';
import { type Benchmark, nsPerOp, round } from './harness.js';
import { inertStores } from './inert-stores.js';

async function fullManager(capacity: number): Promise<{ manager: TenantManager; next: () => string }> {
  const manager = new TenantManager({ ...inertStores(), capacity, idleTimeoutMs: 0 });
  let counter = 0;
  const next = () => `t${counter++}`;
  for (let i = 0; i < capacity; i++) (await manager.acquire(next())).release();
  return { manager, next };
}

/** 2 — cost of an activation that evicts, at capacity 1,000 vs 1,000,000. */
export const lruScaling: Benchmark = {
  id: 2,
  title: 'Eviction cost per activation at capacity 1,000 vs 1,000,000',
  floor: 'the same activation at capacity 1,000 (the ratio itself)',
  async run() {
    const small = await fullManager(1_000);
    const large = await fullManager(1_000_000);
    // Every acquire names a new tenant, so each one evicts the least recently used.
    const result = await nsPerOp(
      {
        small: async (batch) => {
          for (let i = 0; i < batch; i++) (await small.manager.acquire(small.next())).release();
        },
        large: async (batch) => {
          for (let i = 0; i < batch; i++) (await large.manager.acquire(large.next())).release();
        },
      },
      { batch: 200 },
    );
    const evictions = small.manager.stats().evictions.lru + large.manager.stats().evictions.lru;
    await small.manager.close();
    await large.manager.close();
    return {
      figures: [
        { label: 'activation with eviction, capacity 1,000', value: round(result.median.small!, 0), unit: 'ns' },
        { label: 'activation with eviction, capacity 1,000,000', value: round(result.median.large!, 0), unit: 'ns' },
        { label: 'LRU evictions during the run', value: evictions, unit: '' },
      ],
      ratio: round(result.ratio('large', 'small')),
      goal: { op: '<=', value: 1.3 },
      ratioMeaning: 'cost at 1,000,000 / cost at 1,000, median of the ratios of 11 interleaved rounds',
    };
  },
};
