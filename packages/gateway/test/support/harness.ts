import {
  createMemoryAdapter,
  MultiTenantError,
  TenantManager,
  type Coordinator,
  type FleetNode,
  type TenantManagerOptions,
} from '@openclaw-mt/core';
import { createGateway, type Gateway, type GatewayOptions } from '@openclaw-mt/gateway';

/**
 * `OPENCLAW_MT_GATEWAY_TOPOLOGY=forwarded` runs the same tests through a second node that never owns a
 * tenant: every session is forwarded to the owner over the real internal link.
 */
const FORWARDED = process.env.OPENCLAW_MT_GATEWAY_TOPOLOGY === 'forwarded';
const FLEET_SECRET = 'a-fleet-secret-for-the-protocol-tests';

/** A node directory shared by the two nodes: the owner claims every tenant, the entry node none. */
export function directory(): { owner: Coordinator; entry: Coordinator } {
  const nodes = new Map<string, FleetNode>();
  let fence = 0;
  const shared = {
    node: async (id: string) => nodes.get(id),
    nodes: async () => [...nodes.values()],
    release: async () => undefined,
    validate: async () => true,
  };
  return {
    owner: {
      ...shared,
      nodeId: 'owner',
      claim: async (tenantId) => ({ tenantId, owner: 'owner', fence: ++fence, expiresAt: Number.MAX_SAFE_INTEGER }),
      register: async ({ address }) => void nodes.set('owner', { nodeId: 'owner', address, startedAt: Date.now() }),
    },
    entry: {
      ...shared,
      nodeId: 'entry',
      claim: async (tenantId) => {
        throw new MultiTenantError('LEASE_HELD', `${tenantId} is active on node owner.`, {
          retryAfterMs: 100,
          details: { owner: 'owner' },
        });
      },
      register: async ({ address }) => void nodes.set('entry', { nodeId: 'entry', address, startedAt: Date.now() }),
    },
  };
}

/** A gateway on a free loopback port over an in-memory manager (behind a forwarding node, in the forwarded topology). */
export async function startGateway(
  options: { manager?: Partial<TenantManagerOptions>; gateway?: Partial<GatewayOptions> } = {},
): Promise<{ gateway: Gateway; manager: TenantManager; url: string; stop: () => Promise<void> }> {
  const stores = createMemoryAdapter();
  const base = { ...stores, idleTimeoutMs: 0, drainTimeoutMs: 100 };
  if (!FORWARDED) {
    const manager = new TenantManager({ ...base, ...options.manager });
    const gateway = createGateway({ manager, port: 0, drainTimeoutMs: 500, ...options.gateway });
    const { url } = await gateway.listen();
    return { gateway, manager, url, stop: () => gateway.close() };
  }
  const { owner, entry } = directory();
  const fleet = { secret: FLEET_SECRET, port: 0 };
  const manager = new TenantManager({ ...base, ...options.manager, coordinator: owner });
  const gateway = createGateway({ manager, port: 0, drainTimeoutMs: 500, ...options.gateway, fleet });
  await gateway.listen();
  const entryManager = new TenantManager({ ...base, ...options.manager, coordinator: entry });
  const entryGateway = createGateway({ manager: entryManager, port: 0, drainTimeoutMs: 500, ...options.gateway, fleet });
  const { url } = await entryGateway.listen();
  return {
    gateway,
    manager,
    url,
    stop: async () => {
      await entryGateway.close();
      await gateway.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
