import { createHmac } from 'node:crypto';
import { LRUMapWithDelete } from 'mnemonist';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { type Benchmark, nsPerOp, round } from './harness.js';

const PEPPER = 'benchmark-pepper-0123456789abcdef';

/** 1 — authenticate (cached) + acquire + release of a resident tenant vs HMAC + one LRU get. */
export const hotPath: Benchmark = {
  id: 1,
  title: 'Hot path: authenticate (cached token) + acquire + release of a resident tenant',
  floor: 'HMAC-SHA256 of the token + one LRUMapWithDelete.get',
  async run() {
    const manager = new TenantManager({ ...createMemoryAdapter(), peppers: [PEPPER], capacity: 1_000, idleTimeoutMs: 0 });
    const tenants = Array.from({ length: 1_000 }, (_, i) => `tenant-${i}`);
    const tokens: string[] = [];
    for (const tenantId of tenants) {
      tokens.push((await manager.tokens.create(tenantId)).token);
      (await manager.acquire(tenantId)).release();
    }
    for (const token of tokens) await manager.authenticate(token);
    const lru = new LRUMapWithDelete<string, { id: string }>(1_000);
    for (const token of tokens) lru.set(createHmac('sha256', PEPPER).update(token).digest('hex'), { id: token });

    let sink = 0;
    const result = await nsPerOp({
      floor: (batch) => {
        for (let i = 0; i < batch; i++) {
          const token = tokens[i % tokens.length]!;
          const key = createHmac('sha256', PEPPER).update(token).digest('hex');
          sink += lru.get(key) === undefined ? 0 : 1;
        }
      },
      hotPath: (batch) => {
        for (let i = 0; i < batch; i++) {
          const { tenantId } = manager.authenticateCached(tokens[i % tokens.length]!)!;
          manager.tryAcquire(tenantId)!.release();
        }
      },
      promiseApi: async (batch) => {
        for (let i = 0; i < batch; i++) {
          const { tenantId } = await manager.authenticate(tokens[i % tokens.length]!);
          const lease = await manager.acquire(tenantId);
          lease.release();
        }
      },
    });
    await manager.close();
    if (sink < 0) throw new Error('unreachable');
    return {
      figures: [
        { label: 'floor (HMAC + LRU get)', value: round(result.median.floor!, 1), unit: 'ns/op' },
        {
          label: 'authenticateCached + tryAcquire + release (synchronous hot path)',
          value: round(result.median.hotPath!, 1),
          unit: 'ns/op',
        },
        { label: 'await authenticate + await acquire + release (promise API)', value: round(result.median.promiseApi!, 1), unit: 'ns/op' },
      ],
      notes: [
        `The promise API costs ${round(result.ratio('promiseApi', 'floor'))}× the floor: two awaited promises per request on top of the same work.`,
        'Hosts handling many requests per connection use the synchronous pair and fall back to the promise API on a miss.',
      ],
      ratio: round(result.ratio('hotPath', 'floor')),
      goal: { op: '<=', value: 1.5 },
      ratioMeaning: 'hot path time / floor time, median of the ratios of 11 interleaved rounds',
    };
  },
};
