import { createMemoryAdapter, TenantManager, type TenantManagerOptions } from '@openclaw-mt/core';
import { createGateway, type Gateway, type GatewayOptions } from '@openclaw-mt/gateway';

/** A gateway on a free loopback port over an in-memory manager. */
export async function startGateway(
  options: { manager?: Partial<TenantManagerOptions>; gateway?: Partial<GatewayOptions> } = {},
): Promise<{ gateway: Gateway; manager: TenantManager; url: string; stop: () => Promise<void> }> {
  const manager = new TenantManager({ ...createMemoryAdapter(), idleTimeoutMs: 0, drainTimeoutMs: 100, ...options.manager });
  const gateway = createGateway({ manager, port: 0, drainTimeoutMs: 500, ...options.gateway });
  const { url } = await gateway.listen();
  return { gateway, manager, url, stop: () => gateway.close() };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
