/**
 * @openclaw-mt/adapter-redis — the openclaw-mt contracts on Redis, for fleets of gateway nodes:
 * tokens, configs (with a replayable change feed), workspaces materialised on the node that holds a
 * tenant, and leases with fencing so a tenant is active on at most one node.
 */
export { createRedisAdapter, type RedisAdapter, type RedisAdapterOptions } from './redis-adapter.js';
export { createRedisTokenStore, type RedisTokenStore, type RedisTokenStoreOptions } from './redis-token-store.js';
export { createRedisConfigSource, type RedisConfigSource, type RedisConfigSourceOptions } from './redis-config-source.js';
export { createRedisWorkspaceStore, type RedisWorkspaceStore, type RedisWorkspaceStoreOptions } from './redis-workspace-store.js';
export { createRedisCoordinator, type RedisCoordinator, type RedisCoordinatorOptions } from './redis-coordinator.js';
export {
  RedisConnection,
  createRedisConnection,
  type RedisConnectionOptions,
  type AnyRedisClient,
  type AnyRedisCluster,
} from './redis-connection.js';
export type { RedisStoreOptions, RedisLogger } from './store-options.js';
export { RedisKeys, assertKeyPrefix } from './keys.js';
export { FEED_SHARDS, shardOfTenant, slotOfTag } from './feed-shards.js';
export { createRedisAuditLog, type RedisAuditLog, type RedisAuditLogOptions } from './redis-audit-log.js';
export { type RedisAdapterFactoryOptions, redisAdapterFactory } from './redis-adapter-factory.js';
