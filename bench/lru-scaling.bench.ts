import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

/** ns per activation (ours) and per bare `setpop` (raw) at `capacity`, in a child process with a heap of its own. */
function isolated(capacity: number): { ours: number; raw: number } {
  const script = fileURLToPath(new URL('./lru-isolated.ts', import.meta.url));
  return JSON.parse(execFileSync(process.execPath, [...process.execArgv, script, String(capacity)], { encoding: 'utf8' })) as {
    ours: number;
    raw: number;
  };
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
    const alone = { small: isolated(1_000), large: isolated(1_000_000) };
    return {
      figures: [
        { label: 'activation with eviction, capacity 1,000', value: round(result.median.small!, 0), unit: 'ns' },
        { label: 'activation with eviction, capacity 1,000,000', value: round(result.median.large!, 0), unit: 'ns' },
        { label: 'LRU evictions during the run', value: evictions, unit: '' },
        { label: 'alone in its process: activation with eviction, capacity 1,000', value: round(alone.small.ours, 0), unit: 'ns' },
        { label: 'alone in its process: activation with eviction, capacity 1,000,000', value: round(alone.large.ours, 0), unit: 'ns' },
        { label: 'alone in its process: bare LRUMapWithDelete.setpop, capacity 1,000', value: round(alone.small.raw, 0), unit: 'ns' },
        { label: 'alone in its process: bare LRUMapWithDelete.setpop, capacity 1,000,000', value: round(alone.large.raw, 0), unit: 'ns' },
      ],
      notes: [
        'The headline runs both capacities in one process, interleaved, so both see the same heap and garbage collector: the',
        'ratio isolates what the structure’s size costs per eviction. Alone in a process of its own, each capacity also pays',
        `for its heap: an activation then grows ${round(alone.large.ours / alone.small.ours)}× from 1,000 to 1,000,000 tenants, and`,
        `mnemonist’s bare setpop grows ${round(alone.large.raw / alone.small.raw)}×. Neither is a scan (that would be ~1,000×). A CPU profile`,
        'of the 1,000,000 case alone is about half garbage collection: a new tenant outlives two scavenges there (it stays',
        'resident), so it is promoted, and scavenges of a heap holding 1,000,000 tenants took 34–56 ms against 1.5 ms; the rest',
        'is cache and TLB misses on a structure of 1,000,000 entries (a virtual machine makes each TLB miss dearer).',
      ],
      ratio: round(result.ratio('large', 'small')),
      goal: { op: '<=', value: 1.3 },
      ratioMeaning: 'cost at 1,000,000 / cost at 1,000, median of the ratios of 11 interleaved rounds',
    };
  },
};
