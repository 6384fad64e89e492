import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryAdapter, TenantManager, type Coordinator, type FleetNode } from '@openclaw-mt/core';
import { createGateway, type Gateway } from '@openclaw-mt/gateway';
import { FLEET_HEADER, signFleetCredential } from '@openclaw-mt/gateway/admin';
import { verifyFleetCredential } from '../src/fleet/fleet-credential.js';

const SECRET = 'the-fleet-secret-of-these-tests-0123456789';
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
});

function soleNode(): Coordinator {
  const nodes = new Map<string, FleetNode>();
  return {
    nodeId: 'solo',
    claim: async (tenantId) => ({ tenantId, owner: 'solo', fence: 1, expiresAt: Number.MAX_SAFE_INTEGER }),
    release: async () => undefined,
    validate: async () => true,
    register: async ({ address }) => void nodes.set('solo', { nodeId: 'solo', address, startedAt: Date.now() }),
    node: async (id) => nodes.get(id),
  };
}

async function fleetNode() {
  const stores = createMemoryAdapter();
  const manager = new TenantManager({ ...stores, coordinator: soleNode(), idleTimeoutMs: 0 });
  const gateway = createGateway({ manager, port: 0, fleet: { secret: SECRET, port: 0 } });
  gateways.push(gateway);
  const { fleetUrl } = await gateway.listen();
  return { manager, fleetUrl: fleetUrl! };
}

/** The HTTP status an upgrade to the internal port gets (101 when accepted). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', () => undefined);
  });
}

describe('the internal fleet port', () => {
  test('refuses upgrades without a fresh credential made with the fleet secret, even with a valid tenant token', async () => {
    const { manager, fleetUrl } = await fleetNode();
    const { token } = await manager.tokens.create('acme');
    const forwarded = { 'x-openclaw-mt-nonce': 'n', 'x-openclaw-mt-client-address': '10.0.0.1', authorization: `Bearer ${token}` };
    expect(await upgradeStatus(fleetUrl, forwarded)).toBe(401);
    expect(await upgradeStatus(fleetUrl, { ...forwarded, [FLEET_HEADER]: signFleetCredential('another-secret-of-32-characters-xx') })).toBe(
      401,
    );
    const stale = signFleetCredential(SECRET, Date.now() - 5 * 60_000);
    expect(await upgradeStatus(fleetUrl, { ...forwarded, [FLEET_HEADER]: stale })).toBe(401);
    expect(await upgradeStatus(fleetUrl, { ...forwarded, [FLEET_HEADER]: signFleetCredential(SECRET) })).toBe(101);
    const plain = await fetch(`${fleetUrl.replace(/^ws/, 'http')}/fleet/v1/tenants`);
    expect(plain.status).toBe(401);
  });

  test('credentials: only the exact signature made with the secret within a minute verifies', () => {
    const now = Date.now();
    fc.assert(
      fc.property(fc.string(), (header) => !verifyFleetCredential(SECRET, header, now)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.integer({ min: -60_000, max: 60_000 }), fc.nat({ max: 63 }), (skew, position) => {
        const good = signFleetCredential(SECRET, now + skew);
        if (!verifyFleetCredential(SECRET, good, now)) return false;
        // Any one changed hex digit of the signature breaks it.
        const dot = good.indexOf('.') + 1 + position;
        const flipped = good.slice(0, dot) + (good[dot] === '0' ? '1' : '0') + good.slice(dot + 1);
        return !verifyFleetCredential(SECRET, flipped, now);
      }),
    );
  });
});
