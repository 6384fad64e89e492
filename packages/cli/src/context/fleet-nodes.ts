import { MultiTenantError, type Coordinator, type FleetNode, type LoadedConfig, type TenantManagerStats } from '@openclaw-mt/core';
import { FLEET_HEADER, signFleetCredential } from '@openclaw-mt/gateway/admin';
import { parseGatewaySettings } from '@openclaw-mt/gateway/config';
import type { LiveTenant } from './admin-client.js';

/** The fleet secret, when the config describes a fleet the coordinator can list. */
export function fleetSecret(loaded: LoadedConfig, coordinator: Coordinator | undefined): string | undefined {
  const secret = parseGatewaySettings(loaded.config.gateway).fleet.secret;
  return secret !== undefined && coordinator?.nodes !== undefined && coordinator.node !== undefined ? secret : undefined;
}

/** Sends one request to a node's internal port with a fresh fleet credential. */
export async function askNode(node: FleetNode, secret: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  return fetch(`${node.address.replace(/^ws/, 'http')}${path}`, {
    method,
    headers: { 'content-type': 'application/json', [FLEET_HEADER]: signFleetCredential(secret) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  }).catch((error: unknown) => {
    throw new MultiTenantError('BACKEND_UNAVAILABLE', `Node ${node.nodeId} did not answer at ${node.address}.`, {
      cause: error,
      retryAfterMs: 1_000,
    });
  });
}

/** What one live node reports about itself, or why it could not. */
export type NodeReport =
  | { nodeId: string; address: string; reachable: true; stats: TenantManagerStats; tenants: Array<Omit<LiveTenant, 'active'>> }
  | { nodeId: string; address: string; reachable: false; error: { code: string; message: string } };

/**
 * Asks every live node of the fleet directory for its active tenants and numbers, all at once. A node
 * that does not answer is reported as such (it may have died since its last heartbeat); the others are
 * still shown. `undefined` when the config describes no fleet.
 */
export async function reportsFromFleet(loaded: LoadedConfig, coordinator: Coordinator | undefined): Promise<NodeReport[] | undefined> {
  const secret = fleetSecret(loaded, coordinator);
  if (secret === undefined) return undefined;
  const nodes = (await coordinator!.nodes!()).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  return Promise.all(
    nodes.map(async (node): Promise<NodeReport> => {
      try {
        const response = await askNode(node, secret, 'GET', '/fleet/v1/tenants');
        if (!response.ok) throw new MultiTenantError('BACKEND_UNAVAILABLE', `Node ${node.nodeId} answered HTTP ${response.status}.`);
        const body = (await response.json()) as { stats: TenantManagerStats; tenants: Array<Omit<LiveTenant, 'active'>> };
        return { nodeId: node.nodeId, address: node.address, reachable: true, stats: body.stats, tenants: body.tenants };
      } catch (error) {
        const code = error instanceof MultiTenantError ? error.code : 'BACKEND_UNAVAILABLE';
        return { nodeId: node.nodeId, address: node.address, reachable: false, error: { code, message: (error as Error).message } };
      }
    }),
  );
}
