import { afterEach, describe, expect, test } from 'vitest';
import { createMemoryAdapter, TenantManager, type ClaimOptions, type Coordinator, type LeaseLossCause } from '@openclaw-mt/core';
import { connectGateway, createGateway, type Gateway } from '@openclaw-mt/gateway';

const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
});

/** A coordinator whose claims the test can declare lost, with either cause (a fault injector). */
function losingCoordinator() {
  const held = new Map<string, NonNullable<ClaimOptions['onLost']>>();
  let fence = 0;
  const coordinator: Coordinator = {
    nodeId: 'solo',
    async claim(tenantId, options) {
      const claim = { tenantId, owner: 'solo', fence: ++fence, expiresAt: Number.MAX_SAFE_INTEGER };
      held.set(tenantId, (_claim, reason, cause) => options?.onLost?.(claim, reason, cause));
      return claim;
    },
    release: async () => undefined,
    validate: async () => true,
  };
  const lose = (tenantId: string, cause: LeaseLossCause) =>
    held.get(tenantId)?.({ tenantId, owner: 'solo', fence, expiresAt: 0 }, 'lost', cause);
  return { coordinator, lose };
}

describe('close reasons when a lease is lost', () => {
  test.each([
    ['backend-unavailable', 'redis unavailable; reconnect'],
    ['taken-over', 'tenant taken over by another node; reconnect'],
  ] as const)('%s → 1012 "%s"', async (cause, reason) => {
    const { coordinator, lose } = losingCoordinator();
    const manager = new TenantManager({ ...createMemoryAdapter(), coordinator, idleTimeoutMs: 0 });
    const gateway = createGateway({ manager, port: 0 });
    gateways.push(gateway);
    const { url } = await gateway.listen();
    const { token } = await manager.tokens.create('acme');
    const client = await connectGateway({ url, token });
    lose('acme', cause);
    expect(await client.closed).toEqual({ code: 1012, reason });
  });
});
