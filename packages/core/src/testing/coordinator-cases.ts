import assert from 'node:assert/strict';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { rejectsWithCode } from './assertions.js';
import { randomTenantId } from './fixtures.js';

function needsCoordinator(adapter: AdapterUnderTest): string | undefined {
  return adapter.coordinator === undefined ? 'no coordinator' : undefined;
}

/** Cases every {@link Coordinator} must pass; the kit runs two nodes over one namespace. */
export const coordinatorCases: ConformanceCase[] = [
  {
    name: 'coordinator: a tenant claimed by one node is refused to another with LEASE_HELD naming the owner',
    requires: needsCoordinator,
    async run({ adapter, reopen }) {
      const nodeA = adapter.coordinator!;
      const nodeB = (await reopen({ nodeId: `${nodeA.nodeId}-b` })).coordinator!;
      const tenantId = randomTenantId();
      const claim = await nodeA.claim(tenantId);
      assert.equal(claim.owner, nodeA.nodeId);
      assert.ok(claim.expiresAt > Date.now());
      let refused: unknown;
      try {
        await nodeB.claim(tenantId);
      } catch (error) {
        refused = error;
      }
      assert.equal((refused as { code?: string }).code, 'LEASE_HELD');
      assert.equal((refused as { details?: { owner?: string } }).details?.owner, nodeA.nodeId);
      assert.ok(((refused as { retryAfterMs?: number }).retryAfterMs ?? 0) > 0, 'LEASE_HELD suggests when to retry');
      await nodeA.release(claim);
      const taken = await nodeB.claim(tenantId);
      assert.ok(taken.fence > claim.fence, 'every new claim carries a larger fence');
      assert.equal(await nodeA.validate(claim), false, 'a released claim is no longer valid');
      assert.equal(await nodeB.validate(taken), true);
      await nodeB.release(taken);
    },
  },
  {
    name: 'coordinator: concurrent claims of one tenant from two nodes grant exactly one',
    requires: needsCoordinator,
    async run({ adapter, reopen }) {
      const nodeA = adapter.coordinator!;
      const nodeB = (await reopen({ nodeId: `${nodeA.nodeId}-b` })).coordinator!;
      const tenantId = randomTenantId();
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? nodeA : nodeB).claim(tenantId)));
      const granted = results.filter((result) => result.status === 'fulfilled');
      const owners = new Set(granted.map((result) => (result as PromiseFulfilledResult<{ owner: string }>).value.owner));
      assert.equal(owners.size, 1, 'only one node may hold the tenant');
      for (const result of results) {
        if (result.status === 'rejected') assert.equal((result.reason as { code?: string }).code, 'LEASE_HELD');
      }
      for (const result of granted)
        await (owners.has(nodeA.nodeId) ? nodeA : nodeB).release((result as PromiseFulfilledResult<never>).value);
    },
  },
  {
    name: 'coordinator: invalid tenant ids are refused',
    requires: needsCoordinator,
    async run({ adapter }) {
      await rejectsWithCode(() => adapter.coordinator!.claim('../x'), 'TENANT_ID_INVALID');
    },
  },
];
