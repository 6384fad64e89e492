import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { isMultiTenantError, type EvictionReason, type TenantClaim } from '@openclaw-mt/core';
import { eventually, rejectsWithCode } from '@openclaw-mt/core/testing';
import { createRedisCoordinator, createRedisWorkspaceStore, RedisKeys } from '@openclaw-mt/adapter-redis';
import { Leftovers } from './support/fixture.js';
import { startNode, stopNode, type FleetNode } from './support/fleet.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/redis-servers.js';

// Two gateway nodes (each its own adapter instance, node id and TenantManager) on one Redis.
const source = { url: SHARED_REDIS_URL };
const leftovers = new Leftovers(source);
const running: FleetNode[] = [];

async function twoNodes(prefix: string, hooks: (id: string) => Parameters<typeof startNode>[0]['manager'] = () => ({})) {
  const a = await startNode({ id: 'node-a', prefix, source, leftovers, manager: hooks('node-a') });
  const b = await startNode({ id: 'node-b', prefix, source, leftovers, manager: hooks('node-b') });
  running.push(a, b);
  return [a, b] as const;
}

afterEach(async () => {
  for (const node of running.splice(0)) await stopNode(node);
});
afterAll(() => leftovers.cleanup());

describe('a fleet of two nodes on one Redis', () => {
  test('a token revoked through node A is refused by node B within 1 s, cached or not', async () => {
    const prefix = leftovers.prefix(uniquePrefix('revoke'));
    const [a, b] = await twoNodes(prefix);
    const { token } = await a.manager.tokens.create('acme');
    expect((await b.manager.authenticate(token)).tenantId).toBe('acme');
    // The creation event reaches B too and clears its cache once; after that B answers from cache.
    await eventually(
      async () => {
        const hits = b.manager.stats().auth.hits;
        await b.manager.authenticate(token);
        return b.manager.stats().auth.hits === hits + 1;
      },
      5_000,
      'B to hold a positive cache entry for the token',
    );

    await a.manager.tokens.revoke(token);
    await eventually(
      async () => {
        try {
          await b.manager.authenticate(token);
          return false;
        } catch (error) {
          return isMultiTenantError(error, 'TOKEN_REVOKED');
        }
      },
      1_000,
      'node B to refuse the revoked token',
    );
    // The positive entry is gone for good, not just for one call.
    for (let i = 0; i < 5; i++) await rejectsWithCode(() => b.manager.authenticate(token), 'TOKEN_REVOKED');
  });

  test('a suspension made through node A evicts the tenant on node B and refuses its tokens there', async () => {
    const prefix = leftovers.prefix(uniquePrefix('suspend'));
    const evicted: Array<{ tenantId: string; reason: EvictionReason }> = [];
    const [a, b] = await twoNodes(prefix, (id) =>
      id === 'node-b' ? { hooks: { 'tenant:evicted': (event) => void evicted.push(event) } } : {},
    );
    const { token } = await a.manager.tokens.create('globex');
    const lease = await b.manager.acquire((await b.manager.authenticate(token)).tenantId);
    lease.release();
    await a.manager.suspend('globex');
    await eventually(
      () => evicted.some((event) => event.tenantId === 'globex' && event.reason === 'suspended'),
      5_000,
      'B to evict the suspended tenant',
    );
    await rejectsWithCode(() => b.manager.authenticate(token), 'TENANT_SUSPENDED');
  });

  test('1,000 concurrent acquires of 50 tenants from both nodes never activate a tenant on two nodes at once', async () => {
    const prefix = leftovers.prefix(uniquePrefix('fleet'));
    const holders = new Map<string, string>();
    const violations: string[] = [];
    const counts = { activated: 0, evicted: 0 };
    const [a, b] = await twoNodes(prefix, (id) => ({
      leaseWaitMs: 60_000,
      hooks: {
        'tenant:activated': ({ tenantId }) => {
          const holder = holders.get(tenantId);
          if (holder !== undefined) violations.push(`${tenantId} activated on ${id} while held by ${holder}`);
          holders.set(tenantId, id);
          counts.activated++;
        },
        'tenant:evicted': ({ tenantId }) => {
          if (holders.get(tenantId) !== id) violations.push(`${tenantId} evicted on ${id}, which did not hold it`);
          holders.delete(tenantId);
          counts.evicted++;
        },
      },
    }));
    const tenants = Array.from({ length: 50 }, (_, i) => `tenant-${i}`);
    const work = Array.from({ length: 1_000 }, async (_, i) => {
      const node = i % 2 === 0 ? a : b;
      const tenantId = tenants[i % tenants.length]!;
      const lease = await node.manager.acquire(tenantId);
      try {
        await lease.workspace.append('sessions/log.jsonl', `${node.id} ${i}\n`);
      } finally {
        lease.release();
      }
      // Hand the tenant over: evict it unless other acquires on this node still use it.
      await node.manager.evict(tenantId).catch((error) => {
        if (!isMultiTenantError(error, 'TENANT_BUSY')) throw error;
      });
    });
    const results = await Promise.allSettled(work);
    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures.map((failure) => String((failure as PromiseRejectedResult).reason))).toEqual([]);
    expect(violations).toEqual([]);
    await a.manager.evictIdle();
    await b.manager.evictIdle();
    expect(counts.evicted).toBe(counts.activated);

    // Every append made it to Redis exactly once, across all the handovers.
    const store = createRedisWorkspaceStore({ ...source, prefix, localDir: await leftovers.tempDir('check') });
    try {
      for (const tenantId of tenants) {
        const handle = await store.open(tenantId);
        const lines = new TextDecoder()
          .decode(await handle.read('sessions/log.jsonl'))
          .trim()
          .split('\n');
        expect(lines.length, tenantId).toBe(20);
        expect(new Set(lines).size).toBe(20);
        await handle.close();
      }
    } finally {
      await store.close();
    }
  }, 120_000);

  test('a node whose lease expired cannot write back over the new owner’s data', async () => {
    const prefix = leftovers.prefix(uniquePrefix('fence'));
    // Node A stalls (a long GC pause, a frozen VM): it stops renewing, so its lease simply expires.
    const a = await startNode({ id: 'node-a', prefix, source, leftovers, leaseTtlMs: 1_000, adapter: { renewIntervalMs: 600_000 } });
    const b = await startNode({ id: 'node-b', prefix, source, leftovers, manager: { leaseWaitMs: 30_000 } });
    running.push(a, b);
    const tenantId = 'initech';

    const leaseA = await a.manager.acquire(tenantId);
    await leaseA.workspace.write('workspace/USER.md', 'written by A while it held the lease');
    // A child process on node A edits the working copy; none of it is written back yet.
    await writeFile(join(leaseA.workspace.directory!, 'workspace/MEMORY.md'), 'stale edit from node A');
    await writeFile(join(leaseA.workspace.directory!, 'workspace/STALE.md'), 'stale file from node A');
    leaseA.release();

    // B waits for A's lease to expire, takes over and writes.
    const leaseB = await b.manager.acquire(tenantId);
    expect(new TextDecoder().decode(await leaseB.workspace.read('workspace/USER.md'))).toBe('written by A while it held the lease');
    await leaseB.workspace.write('workspace/MEMORY.md', 'written by B, the new owner');

    // A wakes up: its writes are refused, and so is the write-back when it lets the tenant go.
    await rejectsWithCode(() => leaseA.workspace.write('workspace/USER.md', 'late write from A'), 'LEASE_LOST');
    await rejectsWithCode(() => leaseA.workspace.flush(), 'LEASE_LOST');
    await a.manager.evict(tenantId);
    leaseB.release();
    await b.manager.evict(tenantId);

    const store = createRedisWorkspaceStore({ ...source, prefix, localDir: await leftovers.tempDir('check') });
    try {
      const handle = await store.open(tenantId);
      expect(new TextDecoder().decode(await handle.read('workspace/MEMORY.md'))).toBe('written by B, the new owner');
      expect(new TextDecoder().decode(await handle.read('workspace/USER.md'))).toBe('written by A while it held the lease');
      await rejectsWithCode(() => handle.read('workspace/STALE.md'), 'NOT_FOUND');
      await handle.close();
    } finally {
      await store.close();
    }
  });

  test('a node that finds its lease taken over evicts the tenant (lease-lost) without touching the new owner’s data', async () => {
    const prefix = leftovers.prefix(uniquePrefix('lost'));
    const keys = new RedisKeys(prefix);
    const evicted: Array<{ tenantId: string; reason: EvictionReason }> = [];
    const [a, b] = await twoNodes(prefix, (id) =>
      id === 'node-a' ? { hooks: { 'tenant:evicted': (event) => void evicted.push(event) } } : {},
    );
    const tenantId = 'hooli';
    const leaseA = await a.manager.acquire(tenantId);
    leaseA.release();
    // The lease vanishes (as if it expired) and B takes the tenant.
    await leftovers.connection.send(keys.lease(tenantId), ['DEL', keys.lease(tenantId)]);
    const leaseB = await b.manager.acquire(tenantId);
    await leaseB.workspace.write('workspace/MEMORY.md', 'written by B, the new owner');
    await eventually(
      () => evicted.some((event) => event.tenantId === tenantId && event.reason === 'lease-lost'),
      5_000,
      'A to evict after losing its lease',
    );
    expect(a.manager.isActive(tenantId)).toBe(false);
    await leaseB.workspace.flush();
    expect(new TextDecoder().decode(await leaseB.workspace.read('workspace/MEMORY.md'))).toBe('written by B, the new owner');
    leaseB.release();
  });

  test('at store level: a stale claim’s writes and write-backs are refused with LEASE_LOST', async () => {
    const prefix = leftovers.prefix(uniquePrefix('stale'));
    const shared = { ...source, prefix };
    // Node A never renews (a paused process); its lease lapses after 300 ms.
    const coordinatorA = createRedisCoordinator({ ...shared, nodeId: 'a', leaseTtlMs: 300, renewIntervalMs: 600_000 });
    const coordinatorB = createRedisCoordinator({ ...shared, nodeId: 'b' });
    const storeA = createRedisWorkspaceStore({ ...shared, localDir: await leftovers.tempDir('a') });
    const storeB = createRedisWorkspaceStore({ ...shared, localDir: await leftovers.tempDir('b') });
    try {
      const claimA = await coordinatorA.claim('umbrella');
      const handleA = await storeA.open('umbrella', { claim: claimA });
      await handleA.write('workspace/notes.md', 'A');
      let claimB: TenantClaim;
      for (;;) {
        try {
          claimB = await coordinatorB.claim('umbrella');
          break;
        } catch (error) {
          if (!isMultiTenantError(error, 'LEASE_HELD')) throw error;
          expect(error.details.owner).toBe('a');
          await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
        }
      }
      expect(claimB.fence).toBeGreaterThan(claimA.fence);
      expect(await coordinatorA.validate(claimA)).toBe(false);
      const handleB = await storeB.open('umbrella', { claim: claimB });
      await handleB.write('workspace/notes.md', 'B');

      await rejectsWithCode(() => handleA.write('workspace/notes.md', 'stale'), 'LEASE_LOST');
      await rejectsWithCode(() => handleA.append('workspace/notes.md', 'stale'), 'LEASE_LOST');
      await rejectsWithCode(() => handleA.remove('workspace/notes.md'), 'LEASE_LOST');
      await writeFile(join(handleA.directory!, 'workspace/notes.md'), 'stale, through the directory');
      await rejectsWithCode(() => handleA.flush(), 'LEASE_LOST');
      await rejectsWithCode(() => handleA.close(), 'LEASE_LOST');
      await rejectsWithCode(() => storeA.open('umbrella', { claim: claimA }), 'LEASE_LOST');
      // A stale release does not free the new owner's lease.
      await coordinatorA.release(claimA);
      expect(await coordinatorB.validate(claimB)).toBe(true);

      expect(new TextDecoder().decode(await handleB.read('workspace/notes.md'))).toBe('B');
      await handleB.close();
      await coordinatorB.release(claimB);
    } finally {
      for (const closable of [storeA, storeB, coordinatorA, coordinatorB]) await closable.close();
    }
  });
});
