import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { isMultiTenantError, type TenantClaim } from '@openclaw-mt/core';
import { eventually, randomTenantId, rejectsWithCode } from '@openclaw-mt/core/testing';
import { createRedisCoordinator, RedisKeys, type RedisCoordinator, type RedisCoordinatorOptions } from '@openclaw-mt/adapter-redis';
import { Leftovers } from './support/fixture.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/redis-servers.js';

// Leases beyond the conformance kit: renewal, loss, release on close, and what LEASE_HELD says.
const leftovers = new Leftovers({ url: SHARED_REDIS_URL });
const coordinators: RedisCoordinator[] = [];

function coordinator(prefix: string, nodeId: string, options: Partial<RedisCoordinatorOptions> = {}): RedisCoordinator {
  const created = createRedisCoordinator({ url: SHARED_REDIS_URL, prefix, nodeId, ...options });
  coordinators.push(created);
  return created;
}

async function heldBy(action: () => Promise<unknown>): Promise<{ owner: unknown; retryAfterMs: number | undefined }> {
  try {
    await action();
  } catch (error) {
    if (isMultiTenantError(error, 'LEASE_HELD')) return { owner: error.details.owner, retryAfterMs: error.retryAfterMs };
    throw error;
  }
  throw new Error('expected LEASE_HELD');
}

afterEach(async () => {
  for (const item of coordinators.splice(0)) await item.close();
});
afterAll(() => leftovers.cleanup());

describe('redis coordinator', () => {
  test('a held lease is renewed automatically long past its TTL', async () => {
    const prefix = leftovers.prefix(uniquePrefix('renew'));
    const a = coordinator(prefix, 'a', { leaseTtlMs: 300 });
    const b = coordinator(prefix, 'b', { leaseTtlMs: 300, retryHintMs: 50 });
    const tenantId = randomTenantId();
    const claim = await a.claim(tenantId);
    const firstExpiry = claim.expiresAt;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await a.validate(claim)).toBe(true);
    expect(claim.expiresAt).toBeGreaterThan(firstExpiry);
    const held = await heldBy(() => b.claim(tenantId));
    expect(held.owner).toBe('a');
    expect(held.retryAfterMs).toBeGreaterThan(0);
    expect(held.retryAfterMs).toBeLessThanOrEqual(50);
    await a.release(claim);
    await b.release(await b.claim(tenantId));
  });

  test('onLost is called once when a renewal finds the lease taken over', async () => {
    const prefix = leftovers.prefix(uniquePrefix('lost'));
    const keys = new RedisKeys(prefix);
    const a = coordinator(prefix, 'a', { leaseTtlMs: 300 });
    const b = coordinator(prefix, 'b');
    const tenantId = randomTenantId();
    const lost: Array<{ claim: TenantClaim; reason: string }> = [];
    const claim = await a.claim(tenantId, { onLost: (lostClaim, reason) => lost.push({ claim: lostClaim, reason }) });
    await leftovers.connection.send(keys.lease(tenantId), ['DEL', keys.lease(tenantId)]);
    const taken = await b.claim(tenantId);
    await eventually(() => lost.length > 0, 5_000, 'onLost to be called');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(lost).toHaveLength(1);
    expect(lost[0]!.claim).toBe(claim);
    expect(lost[0]!.reason).toMatch(/taken over|expired/);
    // The loser's release is a no-op for the winner.
    await a.release(claim);
    expect(await b.validate(taken)).toBe(true);
  });

  test('closing a coordinator hands its leases back at once', async () => {
    const prefix = leftovers.prefix(uniquePrefix('close'));
    const a = createRedisCoordinator({ url: SHARED_REDIS_URL, prefix, nodeId: 'a', leaseTtlMs: 60_000 });
    const b = coordinator(prefix, 'b');
    const tenantId = randomTenantId();
    await a.claim(tenantId);
    expect((await heldBy(() => b.claim(tenantId))).owner).toBe('a');
    await a.close();
    await rejectsWithCode(() => a.claim(randomTenantId()), 'CLOSED');
    const claim = await b.claim(tenantId);
    expect(claim.owner).toBe('b');
  });

  test('fences grow with every claim and survive release', async () => {
    const prefix = leftovers.prefix(uniquePrefix('fence'));
    const a = coordinator(prefix, 'a');
    const tenantId = randomTenantId();
    const fences: number[] = [];
    for (let i = 0; i < 5; i++) {
      const claim = await a.claim(tenantId);
      fences.push(claim.fence);
      await a.release(claim);
    }
    expect(fences).toEqual([...fences].sort((x, y) => x - y));
    expect(new Set(fences).size).toBe(5);
  });

  test('a node re-claiming its own tenant gets a new fence and its older claim turns stale', async () => {
    const prefix = leftovers.prefix(uniquePrefix('reclaim'));
    const a = coordinator(prefix, 'a', { leaseTtlMs: 300 });
    const tenantId = randomTenantId();
    const lost: string[] = [];
    const first = await a.claim(tenantId, { onLost: (_, reason) => lost.push(reason) });
    const second = await a.claim(tenantId);
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await a.validate(first)).toBe(false);
    expect(await a.validate(second)).toBe(true);
    await eventually(() => lost.length === 1, 5_000, 'the older claim to be reported lost');
    await a.release(second);
  });

  test('bad node ids and tenant ids are refused', () => {
    expect(() => createRedisCoordinator({ url: SHARED_REDIS_URL, prefix: 'p', nodeId: 'has space' })).toThrow(/nodeId/);
    expect(() => createRedisCoordinator({ url: SHARED_REDIS_URL, prefix: 'p', nodeId: '' })).toThrow(/nodeId/);
  });
});
