import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  createMemoryAdapter,
  isMultiTenantError,
  TenantManager,
  type ConfigSource,
  type Lease,
  type WorkspaceHandle,
  type WorkspaceStore,
} from '@openclaw-mt/core';

type Op =
  | { kind: 'use'; tenant: string; holds: number }
  | { kind: 'evict'; tenant: string; force: boolean }
  | { kind: 'config'; tenant: string };

const tenant = fc.constantFrom('t0', 't1', 't2', 't3', 't4');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('use' as const), tenant, holds: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('evict' as const), tenant, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('config' as const), tenant }) },
);

/** Wraps the stores so every I/O step is a point where the scheduler may interleave other work. */
function scheduled(s: fc.Scheduler) {
  const adapter = createMemoryAdapter();
  const step = (label: string) => s.schedule(Promise.resolve(), label);
  const configs: ConfigSource = {
    ...adapter.configs,
    async get(id) {
      await step(`config.get ${id}`);
      return adapter.configs.get(id);
    },
  };
  const workspaces: WorkspaceStore = {
    ...adapter.workspaces,
    async open(id) {
      await step(`open ${id}`);
      const handle = await adapter.workspaces.open(id);
      const wrapped: WorkspaceHandle = {
        ...handle,
        async close() {
          await step(`close ${id}`);
          return handle.close();
        },
      };
      return wrapped;
    },
  };
  return { tokens: adapter.tokens, configs, workspaces, rawConfigs: adapter.configs };
}

describe('TenantManager under interleaved acquire / release / evict / config changes', () => {
  test('never evicts a pinned tenant, never activates one twice, never runs more than capacity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 3 }),
        async (s, ops, capacity) => {
          const stores = scheduled(s);
          const violations: string[] = [];
          const live = new Set<string>();
          const held = new Map<string, number>();
          const forced = new Set<string>();
          const manager = new TenantManager({
            tokens: stores.tokens,
            configs: stores.configs,
            workspaces: stores.workspaces,
            capacity,
            idleTimeoutMs: 0,
            drainTimeoutMs: 0,
            hooks: {
              'tenant:activate': ({ tenantId }) => {
                if (live.has(tenantId)) violations.push(`${tenantId} activated while still live`);
                live.add(tenantId);
                if (live.size > capacity) violations.push(`${live.size} tenants live, capacity ${capacity}`);
              },
              'tenant:evict': ({ tenantId, reason }) => {
                if ((held.get(tenantId) ?? 0) > 0 && !forced.has(tenantId) && reason !== 'shutdown') {
                  violations.push(`${tenantId} evicted (${reason}) while pinned`);
                }
              },
              'tenant:evicted': ({ tenantId }) => {
                live.delete(tenantId);
              },
            },
          });
          const run = async (item: Op) => {
            await s.schedule(Promise.resolve(), `start ${item.kind} ${item.tenant}`);
            if (item.kind === 'use') {
              let lease: Lease;
              try {
                lease = await manager.acquire(item.tenant);
              } catch (error) {
                if (isMultiTenantError(error, 'CAPACITY')) return;
                throw error;
              }
              if (lease.tenantId !== item.tenant) violations.push(`asked for ${item.tenant}, got ${lease.tenantId}`);
              held.set(item.tenant, (held.get(item.tenant) ?? 0) + 1);
              for (let i = 0; i < item.holds; i++) await s.schedule(Promise.resolve(), `hold ${item.tenant}`);
              held.set(item.tenant, held.get(item.tenant)! - 1);
              lease.release();
            } else if (item.kind === 'evict') {
              if (item.force) forced.add(item.tenant);
              try {
                await manager.evict(item.tenant, { force: item.force });
              } catch (error) {
                if (!isMultiTenantError(error, 'TENANT_BUSY')) throw error;
              }
            } else {
              await stores.rawConfigs.set(item.tenant, { config: { touched: Date.now() } });
            }
          };
          const all = Promise.all(ops.map(run));
          await s.waitFor(all);
          const stats = manager.stats();
          if (stats.pinned !== 0) violations.push(`${stats.pinned} pins left after every lease was released`);
          if (stats.resident > capacity) violations.push(`${stats.resident} resident, capacity ${capacity}`);
          const closing = manager.close();
          await s.waitFor(closing);
          expect(violations).toEqual([]);
          expect(live.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
