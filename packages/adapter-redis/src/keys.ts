import { MultiTenantError, isValidTenantId } from '@openclaw-mt/core';

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
 * The hash tag of keys that are not about one tenant (feeds and sequences). It starts with `_`, which
 * no tenant id may, so it can never collide with a tenant's own keys.
 */
const GLOBAL_TAG = '{_global}';

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

  /** Stream of token changes, replayed by watchers after a reconnect. */
  get tokenEvents(): string {
    return `${this.prefix}:${GLOBAL_TAG}:token-events`;
  }

  /** Stream of audit entries (administrative actions). */
  get auditLog(): string {
    return `${this.prefix}:${GLOBAL_TAG}:audit`;
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

  /** Global change sequence of the config feed. */
  get configSeq(): string {
    return `${this.prefix}:${GLOBAL_TAG}:config-seq`;
  }

  /** Sorted set of tenant ids scored by the sequence number of their latest change. */
  get configFeed(): string {
    return `${this.prefix}:${GLOBAL_TAG}:config-feed`;
  }

  /** Pub/sub channel announcing config changes. */
  get configChannel(): string {
    return `${this.prefix}:config-events`;
  }

  /** String `<fence>:<owner>` while a node holds the tenant, with the lease TTL. */
  lease(tenantId: string): string {
    return `${this.prefix}:{${tenantId}}:lease`;
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
