import {
  MultiTenantError,
  assertConfigEntry,
  assertTenantConfig,
  assertTenantId,
  createLogger,
  parseSequenceCursor,
  type ConfigSource,
  type TenantConfigEntry,
  type TenantStatus,
} from '@openclaw-mt/core';
import { backendError } from './backend-error.js';
import { createFeedFollower, type ChangeFeed } from './feed-follower.js';
import { fieldsOf } from './reply.js';
import { scanTenants } from './scan-tenants.js';
import { BUMP_CONFIG_FEED, PUT_CONFIG, READ_CONFIG_FEED, REMOVE_CONFIG, SET_CONFIG, UNLIST_CONFIG } from './scripts/config-scripts.js';
import { integerOption, openStore, type RedisStoreOptions } from './store-options.js';

/** A {@link ConfigSource} with every optional method, as the Redis source provides. */
export type RedisConfigSource = ConfigSource &
  Required<Pick<ConfigSource, 'set' | 'put' | 'remove' | 'changes' | 'tenants' | 'watch' | 'close'>> & {
    /** Resolves once Redis answered and watchers' starting point is fixed: changes from then on reach `watch`. */
    ready(): Promise<void>;
  };

/** Options for {@link createRedisConfigSource}. */
export interface RedisConfigSourceOptions extends RedisStoreOptions {
  /** Clock stamped into `updatedAt` (tests). */
  now?: () => number;
  /** Watchers re-read the change feed this often even without announcements (0 disables). Default 5 s. */
  resyncIntervalMs?: number;
}

const STATUSES = new Set<TenantStatus>(['active', 'suspended', 'deleted']);

function parseEntry(tenantId: string, reply: unknown): TenantConfigEntry | undefined {
  const fields = fieldsOf(reply);
  if (!fields.has('version')) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(fields.get('config') ?? '');
  } catch {
    throw new MultiTenantError('CONFIG_INVALID', `The stored config of ${tenantId} is not valid JSON.`);
  }
  // Validated on the way out too: whatever else wrote to Redis, callers only ever get a valid entry.
  return assertConfigEntry({
    tenantId,
    status: fields.get('status'),
    config,
    version: Number(fields.get('version')),
    updatedAt: Number(fields.get('updatedAt')),
  });
}

/**
 * Tenant configs in Redis: one hash per tenant (`<prefix>:{<tenant>}:config`) whose version only
 * grows (never reused, even after `remove`), changed atomically by Lua (`set` with `ifVersion` CAS,
 * `put` only when newer). The change feed is a sorted set of tenant ids scored by a global sequence
 * taken *after* each change is stored, so a cursor (the sequence) never skips a change; `changes`
 * returns each changed tenant's current entry. `watch` follows that feed from every node, woken by
 * pub/sub and replaying from its cursor after any reconnect.
 */
export function createRedisConfigSource(options: RedisConfigSourceOptions): RedisConfigSource {
  const { keys, connection, release } = openStore(options);
  const now = options.now ?? Date.now;
  const resyncIntervalMs = integerOption(options.resyncIntervalMs, 5_000, 'resyncIntervalMs');
  const logger = options.logger ?? createLogger({ tag: 'openclaw-mt:redis' });
  let closed = false;

  function live(): void {
    if (closed) throw new MultiTenantError('CLOSED', 'The Redis config source is closed.');
  }

  async function get(tenantId: string): Promise<TenantConfigEntry | undefined> {
    return parseEntry(tenantId, await connection.send(keys.config(tenantId), ['HGETALL', keys.config(tenantId)]));
  }

  async function publish(tenantId: string): Promise<void> {
    // Stored before announced: a reader that sees the sequence number also sees the change.
    await connection.run(BUMP_CONFIG_FEED, [keys.configSeq, keys.configFeed], [tenantId, keys.configChannel]);
  }

  async function readFeed(after: number, limit: number): Promise<{ head: number; page: Array<[string, number]> }> {
    const reply = await connection.run<string[]>(READ_CONFIG_FEED, [keys.configSeq, keys.configFeed], [String(after), String(limit)]);
    const page: Array<[string, number]> = [];
    for (let i = 1; i + 1 < reply.length; i += 2) page.push([String(reply[i]), Number(reply[i + 1])]);
    return { head: Number(reply[0]), page };
  }

  async function changes(cursor?: string, limit = 500): Promise<{ entries: TenantConfigEntry[]; cursor: string; hasMore: boolean }> {
    const after = parseSequenceCursor(cursor);
    if (!Number.isSafeInteger(limit)) throw new MultiTenantError('BAD_REQUEST', 'limit must be an integer.');
    live();
    const size = Math.max(1, Math.min(limit, 10_000));
    const { page } = await readFeed(after, size + 1);
    const taken = page.slice(0, size);
    const found = await Promise.all(taken.map(([tenantId]) => get(tenantId)));
    const entries = found.filter((entry): entry is TenantConfigEntry => entry !== undefined);
    const last = taken.at(-1)?.[1] ?? after;
    return { entries, cursor: String(last), hasMore: page.length > size };
  }

  const feed: ChangeFeed<number, TenantConfigEntry> = {
    channel: keys.configChannel,
    async head() {
      return (await readFeed(Number.MAX_SAFE_INTEGER, 1)).head;
    },
    async read(cursor) {
      const { head } = await readFeed(Number.MAX_SAFE_INTEGER, 1);
      // The sequence went backwards (Redis lost its data): replay everything rather than nothing.
      const from = head < cursor ? 0 : cursor;
      const page = await changes(String(from), 500);
      return { events: page.entries, cursor: Number(page.cursor), hasMore: page.hasMore };
    },
  };
  const follower = createFeedFollower(connection, feed, {
    resyncIntervalMs,
    onError: (error) => logger.warn('Replaying config changes from Redis failed; retrying.', error instanceof Error ? error.message : String(error)),
  });

  return {
    name: 'redis',
    capabilities: { write: true, changes: true, watch: true, list: true },
    async get(tenantId) {
      assertTenantId(tenantId);
      live();
      return get(tenantId);
    },
    async set(tenantId, update, setOptions = {}) {
      assertTenantId(tenantId);
      if (update === null || typeof update !== 'object') throw new MultiTenantError('BAD_REQUEST', 'A config update must be an object.');
      const config = update.config === undefined ? undefined : assertTenantConfig(update.config);
      if (update.status !== undefined && !STATUSES.has(update.status)) {
        throw new MultiTenantError('CONFIG_INVALID', 'Invalid config entry: status: expected active, suspended or deleted.');
      }
      const ifVersion = setOptions.ifVersion;
      if (ifVersion !== undefined && (!Number.isSafeInteger(ifVersion) || ifVersion < 0)) {
        throw new MultiTenantError('BAD_REQUEST', 'ifVersion must be a non-negative integer.');
      }
      live();
      const reply = await connection.run<unknown[]>(
        SET_CONFIG,
        [keys.config(tenantId), keys.configVersion(tenantId)],
        [
          ifVersion === undefined ? '' : String(ifVersion),
          config === undefined ? '0' : '1',
          config === undefined ? '' : JSON.stringify(config),
          update.status ?? '',
          String(now()),
        ],
      );
      if (reply[0] === 'CONFLICT') {
        throw new MultiTenantError('CONFLICT', `Config of ${tenantId} changed (now version ${String(reply[1])}); re-read and retry.`, {
          details: { tenantId, version: Number(reply[1]) },
        });
      }
      const entry = assertConfigEntry({
        tenantId,
        status: reply[1],
        config: JSON.parse(String(reply[2])),
        version: Number(reply[3]),
        updatedAt: Number(reply[4]),
      });
      await publish(tenantId);
      return entry;
    },
    async put(entry) {
      const valid = assertConfigEntry(entry);
      live();
      const stored = await connection.run<number>(
        PUT_CONFIG,
        [keys.config(valid.tenantId), keys.configVersion(valid.tenantId)],
        [String(valid.version), valid.status, JSON.stringify(valid.config), String(valid.updatedAt)],
      );
      if (stored === -1) return false;
      // The same version again is most likely a retry after the announcement failed: announce again
      // (a duplicate announcement is harmless; a missing one would leave other nodes stale).
      await publish(valid.tenantId);
      return stored === 1;
    },
    async remove(tenantId) {
      assertTenantId(tenantId);
      live();
      const existed = await connection.run<number>(REMOVE_CONFIG, [keys.config(tenantId)]);
      await connection.run(UNLIST_CONFIG, [keys.configFeed], [tenantId]);
      return existed === 1;
    },
    changes,
    async *tenants() {
      live();
      yield* scanTenants(connection, keys, 'config');
    },
    watch(listener) {
      live();
      return follower.add(listener);
    },
    async ready() {
      live();
      try {
        await follower.ready();
      } catch (error) {
        throw backendError(error, 'read the change feed');
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await follower.close();
      await release();
    },
  };
}
