import { TenantManager, type TenantManagerOptions } from '@openclaw-mt/core';
import { createRedisAdapter, type RedisAdapter, type RedisAdapterOptions, type RedisConnectionOptions } from '@openclaw-mt/adapter-redis';
import type { Leftovers } from './fixture.js';

/** One gateway node: its own adapter instance, node id, local directory and TenantManager. */
export interface FleetNode {
  id: string;
  adapter: RedisAdapter;
  manager: TenantManager;
  localDir: string;
}

/** Options of {@link startNode}. */
export interface NodeOptions {
  id: string;
  prefix: string;
  source: RedisConnectionOptions;
  leftovers: Leftovers;
  leaseTtlMs?: number;
  manager?: Partial<TenantManagerOptions>;
  adapter?: Partial<RedisAdapterOptions>;
}

/** Starts a node the way a host gateway would: one Redis adapter handed to one TenantManager. */
export async function startNode(options: NodeOptions): Promise<FleetNode> {
  const localDir = await options.leftovers.tempDir(options.id);
  const adapter = createRedisAdapter({
    ...options.source,
    prefix: options.prefix,
    nodeId: options.id,
    localDir,
    leaseTtlMs: options.leaseTtlMs ?? 3_000,
    ...options.adapter,
  });
  await adapter.ready();
  const manager = new TenantManager({
    tokens: adapter.tokens,
    configs: adapter.configs,
    workspaces: adapter.workspaces,
    coordinator: adapter.coordinator,
    idleTimeoutMs: 0,
    ...options.manager,
  });
  return { id: options.id, adapter, manager, localDir };
}

/** Closes a node's manager (which closes its stores and, with the last one, its connection). */
export async function stopNode(node: FleetNode): Promise<void> {
  await node.manager.close();
  await node.adapter.close();
}
