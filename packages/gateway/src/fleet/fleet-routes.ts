import type { IncomingMessage } from 'node:http';
import { isMultiTenantError, type TenantManager } from '@openclaw-mt/core';
import type { TenantUsage } from '@openclaw-mt/core/monitor';
import { isValidTenantId } from '@openclaw-mt/core/contracts';

/**
 * Operations other nodes (and fleet-wide tools) ask of this node over the internal port: its active
 * tenants (with what their own processes cost, where the runtime runs some), and evicting one that lives here.
 */
export function fleetRoutes(sources: {
  manager: TenantManager;
  connectedTenants: () => Array<{ tenantId: string; connections: number }>;
  usage?: () => Promise<TenantUsage[]>;
}): (request: IncomingMessage, body: unknown) => Promise<{ status: number; body: unknown }> {
  const { manager } = sources;
  return async (request, body) => {
    const path = new URL(request.url ?? '/', 'http://fleet.invalid').pathname;
    if (request.method === 'GET' && path === '/fleet/v1/tenants') {
      const connections = new Map(sources.connectedTenants().map((entry) => [entry.tenantId, entry.connections]));
      const costs = new Map(((await sources.usage?.().catch(() => [])) ?? []).map(({ tenantId, ...cost }) => [tenantId, cost]));
      const tenants = manager.activeTenants().map((tenant) => {
        const cost = costs.get(tenant.tenantId);
        return { ...tenant, connections: connections.get(tenant.tenantId) ?? 0, ...(cost === undefined ? {} : { usage: cost }) };
      });
      return { status: 200, body: { stats: manager.stats(), tenants } };
    }
    if (request.method === 'POST' && path === '/fleet/v1/evict') {
      const { tenantId, force } = (body ?? {}) as { tenantId?: unknown; force?: unknown };
      if (typeof tenantId !== 'string' || !isValidTenantId(tenantId)) return { status: 400, body: { error: 'TENANT_ID_INVALID' } };
      try {
        return { status: 200, body: { tenantId, evicted: await manager.evict(tenantId, { force: force === true }) } };
      } catch (error) {
        if (isMultiTenantError(error)) return { status: 409, body: { error: error.code, message: error.message } };
        throw error;
      }
    }
    return { status: 404, body: { error: 'not found' } };
  };
}
