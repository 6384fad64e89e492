import { MultiTenantError, type Coordinator } from '@openclaw-mt/core';
import type { LoadedConfig } from '@openclaw-mt/core';
import { askNode, fleetSecret } from './fleet-nodes.js';

/** What evicting through the fleet found. */
export interface FleetEviction {
  tenantId: string;
  evicted: boolean;
  /** The node that held the tenant, when one did. */
  node?: string;
}

/**
 * In a fleet (Redis and a fleet secret), evicts a tenant on whichever node holds it: the lease names the
 * node, the directory its internal address, and the request carries a fleet credential. `undefined` when
 * the config describes no fleet (the caller asks its one gateway instead).
 */
export async function evictInFleet(
  loaded: LoadedConfig,
  coordinator: Coordinator | undefined,
  tenantId: string,
  force: boolean,
): Promise<FleetEviction | undefined> {
  const secret = fleetSecret(loaded, coordinator);
  if (secret === undefined || coordinator?.holder === undefined || coordinator.node === undefined) return undefined;
  const holder = await coordinator.holder(tenantId);
  if (holder === undefined) return { tenantId, evicted: false };
  const node = await coordinator.node(holder);
  if (node === undefined) {
    throw new MultiTenantError('BACKEND_UNAVAILABLE', `${tenantId} is held by node ${holder}, which is not heartbeating; retry shortly.`, {
      retryAfterMs: 3_000,
    });
  }
  const response = await askNode(node, secret, 'POST', '/fleet/v1/evict', { tenantId, force });
  const body = (await response.json().catch(() => ({}))) as { evicted?: boolean; error?: string; message?: string };
  if (response.status === 409 && body.error === 'TENANT_BUSY')
    throw new MultiTenantError('TENANT_BUSY', body.message ?? `${tenantId} is in use.`);
  if (!response.ok) throw new MultiTenantError('BACKEND_UNAVAILABLE', `Node ${holder} answered HTTP ${response.status}.`);
  return { tenantId, evicted: body.evicted === true, node: holder };
}
