import { describe, expect, test } from 'vitest';
import {
  createMemoryAdapter,
  MultiTenantError,
  TenantManager,
  type ClaimOptions,
  type Coordinator,
  type TenantClaim,
} from '@openclaw-mt/core';

/** A one-process coordinator whose claims can be revoked from the test, as a lost lease would be. */
function testCoordinator() {
  const held = new Map<string, { claim: TenantClaim; options: ClaimOptions | undefined }>();
  const events: string[] = [];
  let fence = 0;
  const coordinator: Coordinator = {
    nodeId: 'node-a',
    async claim(tenantId, options) {
      if (held.has(tenantId)) throw new MultiTenantError('LEASE_HELD', 'held', { details: { owner: 'node-b' }, retryAfterMs: 50 });
      const claim = { tenantId, owner: 'node-a', fence: ++fence, expiresAt: Date.now() + 10_000 };
      held.set(tenantId, { claim, options });
      events.push(`claim ${tenantId}`);
      return claim;
    },
    async release(claim) {
      held.delete(claim.tenantId);
      events.push(`release ${claim.tenantId}`);
    },
    async validate(claim) {
      return held.get(claim.tenantId)?.claim.fence === claim.fence;
    },
  };
  const lose = (tenantId: string) => {
    const entry = held.get(tenantId)!;
    held.delete(tenantId);
    entry.options?.onLost?.(entry.claim, 'taken over');
  };
  return { coordinator, held, events, lose };
}

describe('the manager with a coordinator', () => {
  test('a lost claim evicts the tenant with reason lease-lost; the claim is released after tenant:evicted', async () => {
    const { coordinator, events, lose } = testCoordinator();
    const manager = new TenantManager({
      ...createMemoryAdapter(),
      coordinator,
      idleTimeoutMs: 0,
      hooks: { 'tenant:evicted': ({ tenantId, reason }) => void events.push(`evicted ${tenantId} ${reason}`) },
    });
    (await manager.acquire('a')).release();
    (await manager.acquire('b')).release();
    lose('a');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(manager.isActive('a')).toBe(false);
    await manager.evict('b');
    expect(events).toEqual(['claim a', 'claim b', 'evicted a lease-lost', 'release a', 'evicted b manual', 'release b']);
    await manager.close();
  });

  test('a claim lost during activation fails that activation with a retryable LEASE_LOST and leaves nothing active', async () => {
    const { coordinator, lose } = testCoordinator();
    const adapter = createMemoryAdapter();
    const manager = new TenantManager({
      ...adapter,
      workspaces: {
        ...adapter.workspaces,
        async open(id, options) {
          lose(id);
          return adapter.workspaces.open(id, options);
        },
      },
      coordinator,
      idleTimeoutMs: 0,
    });
    await expect(manager.acquire('c')).rejects.toMatchObject({ code: 'LEASE_LOST', retryable: true });
    expect(manager.stats()).toMatchObject({ resident: 0, pinned: 0 });
    await manager.close();
  });

  test('LEASE_HELD fails fast by default and is retried within leaseWaitMs', async () => {
    const { coordinator, held } = testCoordinator();
    const manager = new TenantManager({ ...createMemoryAdapter(), coordinator, idleTimeoutMs: 0 });
    held.set('d', { claim: { tenantId: 'd', owner: 'node-b', fence: 99, expiresAt: 0 }, options: undefined });
    await expect(manager.acquire('d')).rejects.toMatchObject({ code: 'LEASE_HELD', details: { owner: 'node-b' } });
    const patient = new TenantManager({ ...createMemoryAdapter(), coordinator, idleTimeoutMs: 0, leaseWaitMs: 2_000 });
    setTimeout(() => held.delete('d'), 100);
    const lease = await patient.acquire('d');
    expect(lease.tenantId).toBe('d');
    lease.release();
    await manager.close();
    await patient.close();
  });
});
