import { LRUMapWithDelete } from 'mnemonist';
import { TenantManager } from '@openclaw-mt/core';
import { inertStores } from './inert-stores.js';

/**
 * Run as a child process with a capacity: measures, in a heap of its own, an activation that evicts
 * (as benchmark 2 does) and a bare `LRUMapWithDelete.setpop` at that capacity. Prints
 * `{"ours": ns, "raw": ns}`. Benchmark 2 uses it to show the cost of a big heap and a big structure
 * together, which a shared heap hides.
 */
const capacity = Number(process.argv[2]);
const TIME_MS = 1_500;

async function nsPer(step: () => Promise<void> | void): Promise<number> {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < TIME_MS) {
    for (let i = 0; i < 200; i++) await step();
    count += 200;
  }
  return ((performance.now() - started) * 1e6) / count;
}

let counter = 0;
const lru = new LRUMapWithDelete<string, { n: number }>(capacity);
for (let i = 0; i < capacity; i++) lru.set(`r${counter++}`, { n: i });
const raw = await nsPer(() => void lru.setpop(`r${counter++}`, { n: counter }));
lru.clear();
globalThis.gc?.();

const manager = new TenantManager({ ...inertStores(), capacity, idleTimeoutMs: 0 });
for (let i = 0; i < capacity; i++) (await manager.acquire(`t${counter++}`)).release();
const ours = await nsPer(async () => (await manager.acquire(`t${counter++}`)).release());
await manager.close();
process.stdout.write(`${JSON.stringify({ ours, raw })}\n`);
