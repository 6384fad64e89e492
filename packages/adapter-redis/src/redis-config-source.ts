import {
  MultiTenantError,
  createLogger,
  type ConfigSource,
  type TenantConfig,
  type TenantConfigEntry,
  type TenantStatus,
} from '@openclaw-mt/core';
import { assertConfigEntry, assertTenantConfig, assertTenantId } from '@openclaw-mt/core/contracts';
import { type AnnouncementOutbox, isUnreachable, queuedError } from './announcement-outbox.js';
import { backendError } from './backend-error.js';
import { combineFollowers, createFeedFollower, shardOutageReporter, type ChangeFeed } from './feed-follower.js';
import { announcementConcerns, FEED_SHARDS, shardOfTenant } from './feed-shards.js';
import { encodeShardCursor, parseShardCursor } from './shard-cursor.js';
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
  /** Where suspensions and announcements wait while Redis is unreachable (see `createRedisAdapter`'s `outboxDir`). */
  outbox?: AnnouncementOutbox;
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
  const outbox = options.outbox;
  let closed = false;

  function live(): void {
    if (closed) throw new MultiTenantError('CLOSED', 'The Redis config source is closed.');
  }

  async function get(tenantId: string): Promise<TenantConfigEntry | undefined> {
    return parseEntry(tenantId, await connection.send(keys.config(tenantId), ['HGETALL', keys.config(tenantId)]));
  }

  /** Announces a stored change; while its feed shard is unreachable, queues the announcement instead. */
  async function publish(tenantId: string): Promise<void> {
    try {
      await appendToFeed(tenantId);
    } catch (error) {
      if (outbox === undefined || !isUnreachable(error)) throw error;
      await outbox.enqueue({ kind: 'config.announce', tenantId });
      logger.warn(`A config change of ${tenantId} is stored; its announcement to other nodes is queued in ${outbox.dir}.`);
    }
  }

  async function appendToFeed(tenantId: string): Promise<void> {
    const shard = shardOfTenant(tenantId);
    // Stored before announced: a reader that sees the sequence number also sees the change.
    await connection.run(BUMP_CONFIG_FEED, [keys.configSeq(shard), keys.configFeed(shard)], [tenantId, keys.configChannel, String(shard)]);
  }

  /** One page of one shard of the feed (tenant, sequence pairs after `after`) and that shard's head. */
  async function readShard(shard: number, after: number, limit: number): Promise<{ head: number; page: Array<[string, number]> }> {
    const reply = await connection.run<string[]>(
      READ_CONFIG_FEED,
      [keys.configSeq(shard), keys.configFeed(shard)],
      [String(after), String(limit)],
    );
    const page: Array<[string, number]> = [];
    for (let i = 1; i + 1 < reply.length; i += 2) page.push([String(reply[i]), Number(reply[i + 1])]);
    return { head: Number(reply[0]), page };
  }

  async function entriesOf(tenantIds: string[]): Promise<TenantConfigEntry[]> {
    const found = await Promise.all(tenantIds.map((tenantId) => get(tenantId)));
    return found.filter((entry): entry is TenantConfigEntry => entry !== undefined);
  }

  async function changes(cursor?: string, limit = 500): Promise<{ entries: TenantConfigEntry[]; cursor: string; hasMore: boolean }> {
    const after = parseShardCursor(cursor);
    if (!Number.isSafeInteger(limit)) throw new MultiTenantError('BAD_REQUEST', 'limit must be an integer.');
    live();
    const size = Math.max(1, Math.min(limit, 10_000));
    const pages = await Promise.all(after.map((from, shard) => readShard(shard, from, size + 1)));
    // Sequences are microsecond timestamps (strictly increasing per shard), so merging by them lists
    // changes in the order they were made; each shard's part of the page is a prefix of that shard.
    const merged = pages.flatMap(({ page }, shard) => page.map(([tenantId, seq]) => ({ tenantId, seq, shard })));
    merged.sort((x, y) => x.seq - y.seq);
    const taken = merged.slice(0, size);
    const next = [...after];
    for (const { seq, shard } of taken) next[shard] = Math.max(next[shard]!, seq);
    return {
      entries: await entriesOf(taken.map(({ tenantId }) => tenantId)),
      cursor: encodeShardCursor(next),
      hasMore: merged.length > size,
    };
  }

  function shardFeed(shard: number): ChangeFeed<number, TenantConfigEntry> {
    return {
      channel: keys.configChannel,
      start: 0,
      concerns: (message) => announcementConcerns(message, shard),
      async head() {
        return (await readShard(shard, Number.MAX_SAFE_INTEGER, 1)).head;
      },
      async read(cursor) {
        let { head, page } = await readShard(shard, cursor, 501);
        // The sequence went backwards (Redis lost its data): replay everything rather than nothing.
        if (head < cursor) ({ head, page } = await readShard(shard, 0, 501));
        const taken = page.slice(0, 500);
        const events = await entriesOf(taken.map(([tenantId]) => tenantId));
        return { events, cursor: taken.at(-1)?.[1] ?? Math.min(cursor, head), hasMore: page.length > 500 };
      },
    };
  }
  const outage = shardOutageReporter((error) =>
    logger.warn('Replaying config changes from Redis failed; retrying.', error instanceof Error ? error.message : String(error)),
  );
  const follower = combineFollowers(
    Array.from({ length: FEED_SHARDS }, (_, shard) =>
      createFeedFollower(connection, shardFeed(shard), { resyncIntervalMs, ...outage(shard) }),
    ),
  );

  function storeConfig(
    tenantId: string,
    ifVersion: number | undefined,
    config: TenantConfig | undefined,
    status: TenantStatus | undefined,
  ): Promise<unknown[]> {
    return connection.run<unknown[]>(
      SET_CONFIG,
      [keys.config(tenantId), keys.configVersion(tenantId)],
      [
        ifVersion === undefined ? '' : String(ifVersion),
        config === undefined ? '0' : '1',
        config === undefined ? '' : JSON.stringify(config),
        status ?? '',
        String(now()),
      ],
    );
  }

  outbox?.handle('config.status', async (entry) => {
    if (entry.kind !== 'config.status') return;
    await storeConfig(entry.tenantId, undefined, undefined, entry.status);
    await appendToFeed(entry.tenantId);
  });
  outbox?.handle('config.announce', async (entry) => {
    if (entry.kind === 'config.announce') await appendToFeed(entry.tenantId);
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
      let reply: unknown[];
      try {
        reply = await storeConfig(tenantId, ifVersion, config, update.status);
      } catch (error) {
        // A status change (suspend, resume, delete) closes sockets on other nodes: it must not be lost
        // to an outage. Config edits and compare-and-set stay the caller's to retry.
        const statusOnly = config === undefined && ifVersion === undefined && update.status !== undefined;
        if (outbox === undefined || !statusOnly || !isUnreachable(error)) throw error;
        await outbox.enqueue({ kind: 'config.status', tenantId, status: update.status! });
        throw queuedError(`status change of ${tenantId} to ${update.status}`, outbox.dir, error);
      }
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
      await connection.run(UNLIST_CONFIG, [keys.configFeed(shardOfTenant(tenantId))], [tenantId]);
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
