import { MultiTenantError } from '@openclaw-mt/core';
import { isValidTenantId } from '@openclaw-mt/core/contracts';
import { SHARD_TAGS } from './feed-shards.js';

/**
 * Key prefixes may use ASCII letters, digits, `.`, `_`, `-` and `:`. Braces are refused (they would
 * change a key's Cluster hash tag) and so are glob characters (they would change SCAN patterns).
 */
const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Returns `prefix` when it is an acceptable key prefix, else throws `CONFIG_INVALID`. */
export function assertKeyPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix) || prefix.endsWith(':')) {
    throw new MultiTenantError(
      'CONFIG_INVALID',
      'prefix: expected 1–128 characters of letters, digits, ".", "_", "-" or ":", starting with a letter or digit and not ending with ":".',
    );
  }
  return prefix;
}

/**
 * Every Redis key and channel the adapter uses, derived from one prefix. A tenant's keys carry the
 * tenant id as their hash tag (`<prefix>:{<tenant>}:…`), so on Redis Cluster they share one slot and
 * one Lua script can touch all of them. Token records are tagged by their hash instead, because a
 * lookup knows only the hash.
 */
export class RedisKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = assertKeyPrefix(prefix);
  }

  /** Hash holding one token record (fields of `TokenRecord`). */
  tokenRecord(tokenHash: string): string {
    return `${this.prefix}:tok:{${tokenHash}}`;
  }

  /** Sorted set of a tenant's token hashes, scored by the time they were indexed. */
  tenantTokens(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:tokens`;
  }

  /**
   * One shard of the stream of token changes, replayed by watchers after a reconnect. Feeds are sharded
   * (tags `{_feed<i>-<n>}`, which no tenant id can be: ids never start with `_`) so that no single
   * Cluster slot carries every change: losing one master loses only its shards.
   */
  tokenEvents(shard: number): string {
    return `${this.prefix}:{${SHARD_TAGS[shard]}}:token-events`;
  }

  /** One shard of the stream of audit entries (administrative actions). */
  auditLog(shard: number): string {
    return `${this.prefix}:{${SHARD_TAGS[shard]}}:audit`;
  }

  /** Pub/sub channel announcing new token events. */
  get tokenChannel(): string {
    return `${this.prefix}:token-events`;
  }

  /** Hash holding a tenant's config entry (`status`, `config` JSON, `version`, `updatedAt`). */
  config(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:config`;
  }

  /** The highest config version a tenant ever had; survives `remove`, so versions are never reused. */
  configVersion(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:config-version`;
  }

  /** The change sequence of one shard of the config feed (the last score given out). */
  configSeq(shard: number): string {
    return `${this.prefix}:{${SHARD_TAGS[shard]}}:config-seq`;
  }

  /** One shard of the config feed: tenant ids scored by the sequence number of their latest change. */
  configFeed(shard: number): string {
    return `${this.prefix}:{${SHARD_TAGS[shard]}}:config-feed`;
  }

  /** Pub/sub channel announcing config changes. */
  get configChannel(): string {
    return `${this.prefix}:config-events`;
  }

  /** String `<fence>:<owner>` while a node holds the tenant, with the lease TTL. */
  lease(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:lease`;
  }

  /** JSON record of a live node (`FleetNode`), kept alive by its heartbeat's TTL. */
  node(nodeId: string): string {
    return `${this.prefix}:fleet:node:${nodeId}`;
  }

  /** Set of node ids that registered; members whose record expired are pruned on listing. */
  get nodes(): string {
    return `${this.prefix}:fleet:nodes`;
  }

  /** Counter incremented by every new lease; never deleted. */
  fence(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:fence`;
  }

  /** Hash with a workspace's `usage`, `createdAt` and template `manifest`; its existence is the workspace's. */
  workspaceState(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:ws:state`;
  }

  /** Short-lived lock held while a template update is applied (several nodes may open at once). */
  workspaceLock(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:ws:template-lock`;
  }

  /** Hash of file name → `<size>:<modifiedAt>`. */
  workspaceMeta(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:ws:meta`;
  }

  /** String holding one workspace file's bytes. */
  workspaceFile(tenantId: string, name: string): string {
    return `${this.workspaceFilePrefix(tenantId)}${name}`;
  }

  /** What every file key of a tenant starts with. */
  workspaceFilePrefix(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:ws:file:`;
  }

  /** SCAN pattern matching one kind of per-tenant key (`config`, `ws:state`). */
  tenantPattern(suffix: string): string {
    return `${this.prefix}:{*}:${suffix}`;
  }

  /** The tenant id in a per-tenant key of the given kind, or `undefined` when the key is not one. */
  tenantFromKey(key: string, suffix: string): string | undefined {
    const head = `${this.prefix}:{`;
    const tail = `}:${suffix}`;
    if (!key.startsWith(head) || !key.endsWith(tail)) return undefined;
    const tenantId = key.slice(head.length, key.length - tail.length);
    return isValidTenantId(tenantId) ? tenantId : undefined;
  }

  /** SCAN pattern matching every key under the prefix (for operators and tests). */
  get everything(): string {
    return `${this.prefix}:*`;
  }
}
