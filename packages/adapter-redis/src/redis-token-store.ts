import { MultiTenantError, createLogger, type TokenChange, type TokenRecord, type TokenStore } from '@openclaw-mt/core';
import { assertTenantId, assertTokenHash, assertTokenRecord } from '@openclaw-mt/core/contracts';
import { type AnnouncementOutbox, isUnreachable, queuedError } from './announcement-outbox.js';
import { backendError } from './backend-error.js';
import { announcementConcerns, FEED_SHARDS, shardOfTenant } from './feed-shards.js';
import { combineFollowers, createFeedFollower, shardOutageReporter, type ChangeFeed } from './feed-follower.js';
import { fieldsOf } from './reply.js';
import { scanTenants } from './scan-tenants.js';
import { APPEND_TOKEN_EVENTS, CREATE_TOKEN, LIST_TOKEN_INDEX, REVOKE_TOKEN, ROTATE_TOKEN } from './scripts/token-scripts.js';
import { integerOption, openStore, type RedisStoreOptions } from './store-options.js';

/** A {@link TokenStore} with every optional method, as the Redis store provides. */
export type RedisTokenStore = TokenStore &
  Required<Pick<TokenStore, 'get' | 'create' | 'revoke' | 'rotate' | 'listByTenant' | 'tenants' | 'watch' | 'close'>> & {
    /** Resolves once Redis answered and watchers' starting point is fixed: changes from then on reach `watch`. */
    ready(): Promise<void>;
  };

/** Options for {@link createRedisTokenStore}. */
export interface RedisTokenStoreOptions extends RedisStoreOptions {
  /**
   * How long a record stays after its `expiresAt` (its Redis TTL is `expiresAt` plus this), so an
   * expired token is reported as expired rather than unknown for a while. Default 24 h.
   */
  expiredRetentionMs?: number;
  /** Token events kept for replay after a disconnect (approximate). Default 10,000. */
  eventHistory?: number;
  /** Watchers re-read the event stream this often even without announcements (0 disables). Default 5 s. */
  resyncIntervalMs?: number;
  /** Where revocations and their announcements wait while Redis is unreachable (see `createRedisAdapter`'s `outboxDir`). */
  outbox?: AnnouncementOutbox;
}

const STATUSES = new Set(['active', 'revoked', 'expired']);
const TENANT_STATUSES = new Set(['active', 'suspended', 'deleted']);
/** Index entries without a record are pruned only once this old, so a create in flight is never pruned. */
const PRUNE_AFTER_MS = 60_000;

function toFields(record: TokenRecord): string[] {
  const fields = ['tenantId', record.tenantId, 'status', record.status, 'createdAt', String(record.createdAt)];
  if (record.expiresAt !== undefined) fields.push('expiresAt', String(record.expiresAt));
  if (record.label !== undefined) fields.push('label', record.label);
  if (record.rotatedTo !== undefined) fields.push('rotatedTo', record.rotatedTo);
  if (record.tenantStatus !== undefined && TENANT_STATUSES.has(record.tenantStatus)) fields.push('tenantStatus', record.tenantStatus);
  return fields;
}

function fromFields(tokenHash: string, reply: unknown): TokenRecord | undefined {
  const fields = fieldsOf(reply);
  const tenantId = fields.get('tenantId');
  const status = fields.get('status');
  if (tenantId === undefined || status === undefined || !STATUSES.has(status)) return undefined;
  const record: TokenRecord = {
    tokenHash,
    tenantId,
    status: status as TokenRecord['status'],
    createdAt: Number(fields.get('createdAt') ?? 0),
  };
  const expiresAt = fields.get('expiresAt');
  if (expiresAt !== undefined) record.expiresAt = Number(expiresAt);
  const label = fields.get('label');
  if (label !== undefined) record.label = label;
  const rotatedTo = fields.get('rotatedTo');
  if (rotatedTo !== undefined) record.rotatedTo = rotatedTo;
  const tenantStatus = fields.get('tenantStatus');
  if (tenantStatus !== undefined && TENANT_STATUSES.has(tenantStatus)) record.tenantStatus = tenantStatus as TokenRecord['tenantStatus'];
  return record;
}

/** Stream entry ids compare as (milliseconds, sequence) pairs. */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/**
 * Token records in Redis, keyed by token hash only (`<prefix>:tok:{<hash>}`), each with a TTL at its
 * expiry (plus a retention period); a per-tenant index (`<prefix>:{<tenant>}:tokens`) for listing.
 * Every change is appended to a replay stream and announced on a channel, so `watch` on any node sees
 * changes from every node — including those made while it was disconnected.
 *
 * On Cluster the record and the tenant index live in different slots, so a create writes the index
 * entry first and the record second: the index is a superset of the records and a token that
 * authenticates is always listed. Rotation is atomic per record (the successor is stored, then the old
 * record is limited in one script; if that fails the successor is deleted again).
 */
export function createRedisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  const { keys, connection, release } = openStore(options);
  const retentionMs = integerOption(options.expiredRetentionMs, 24 * 60 * 60_000, 'expiredRetentionMs');
  const history = integerOption(options.eventHistory, 10_000, 'eventHistory', 1);
  const resyncIntervalMs = integerOption(options.resyncIntervalMs, 5_000, 'resyncIntervalMs');
  const logger = options.logger ?? createLogger({ tag: 'openclaw-mt:redis' });
  const outbox = options.outbox;
  let closed = false;

  function shardFeed(shard: number): ChangeFeed<string, TokenChange> {
    const key = keys.tokenEvents(shard);
    const feed: ChangeFeed<string, TokenChange> = {
      channel: keys.tokenChannel,
      start: '0-0',
      concerns: (message) => announcementConcerns(message, shard),
      async head() {
        const last = await connection.send<Array<[string, unknown]>>(key, ['XREVRANGE', key, '+', '-', 'COUNT', '1']);
        return last[0]?.[0] ?? '0-0';
      },
      async read(cursor) {
        const head = await feed.head();
        // The stream went backwards (Redis lost its data): start over rather than wait for ids to catch up.
        const from = compareIds(head, cursor) < 0 ? '0-0' : cursor;
        const entries = await connection.send<Array<[string, string[]]>>(key, ['XRANGE', key, `(${from}`, '+', 'COUNT', '500']);
        const events: TokenChange[] = [];
        for (const [, raw] of entries) {
          const fields = fieldsOf(raw);
          const type = fields.get('type');
          if (type !== 'created' && type !== 'revoked' && type !== 'rotated') continue;
          events.push({ type, tokenHash: fields.get('hash') ?? '', tenantId: fields.get('tenant') ?? '' });
        }
        return { events, cursor: entries.at(-1)?.[0] ?? from, hasMore: entries.length === 500 };
      },
    };
    return feed;
  }
  const outage = shardOutageReporter((error) => logger.warn('Replaying token changes from Redis failed; retrying.', errorText(error)));
  const follower = combineFollowers(
    Array.from({ length: FEED_SHARDS }, (_, shard) =>
      createFeedFollower(connection, shardFeed(shard), { resyncIntervalMs, ...outage(shard) }),
    ),
  );

  function live(): void {
    if (closed) throw new MultiTenantError('CLOSED', 'The Redis token store is closed.');
  }

  function redisExpiry(expiresAt: number | undefined): string {
    return expiresAt === undefined ? '' : String(expiresAt + retentionMs);
  }

  /** Appends the changes to their tenant's feed shard (one tenant's changes stay in order there) and announces them. */
  async function announce(changes: TokenChange[]): Promise<void> {
    const byShard = new Map<number, TokenChange[]>();
    for (const change of changes) {
      const shard = shardOfTenant(change.tenantId);
      byShard.set(shard, [...(byShard.get(shard) ?? []), change]);
    }
    for (const [shard, group] of byShard) {
      const args = [String(history), keys.tokenChannel, String(shard)];
      for (const change of group) args.push(change.type, change.tokenHash, change.tenantId);
      await connection.run(APPEND_TOKEN_EVENTS, [keys.tokenEvents(shard)], args);
    }
  }

  /** Announcements of creations only clear negative caches (short-lived): losing one is logged, not fatal. */
  async function announceQuietly(changes: TokenChange[]): Promise<void> {
    try {
      await announce(changes);
    } catch (error) {
      logger.warn('A token change was stored but could not be announced to other nodes.', errorText(error));
    }
  }

  async function index(record: TokenRecord): Promise<void> {
    await connection.send(keys.tenantTokens(record.tenantId), [
      'ZADD',
      keys.tenantTokens(record.tenantId),
      'NX',
      String(Date.now()),
      record.tokenHash,
    ]);
  }

  async function store(record: TokenRecord): Promise<void> {
    await index(record);
    const stored = await connection.run<number>(
      CREATE_TOKEN,
      [keys.tokenRecord(record.tokenHash)],
      [redisExpiry(record.expiresAt), ...toFields(record)],
    );
    if (stored !== 1) throw new MultiTenantError('CONFLICT', 'A token with this hash already exists.');
  }

  async function read(tokenHash: string): Promise<TokenRecord | undefined> {
    return fromFields(tokenHash, await connection.send(keys.tokenRecord(tokenHash), ['HGETALL', keys.tokenRecord(tokenHash)]));
  }

  outbox?.handle('token.revoke', async (entry) => {
    if (entry.kind !== 'token.revoke') return;
    const record = fromFields(entry.tokenHash, await connection.run(REVOKE_TOKEN, [keys.tokenRecord(entry.tokenHash)]));
    if (record !== undefined) await announce([{ type: 'revoked', tokenHash: entry.tokenHash, tenantId: record.tenantId }]);
  });
  outbox?.handle('token.announce', async (entry) => {
    if (entry.kind === 'token.announce') await announce(entry.changes);
  });

  return {
    name: 'redis',
    capabilities: { write: true, list: true, watch: true },
    async get(tokenHash) {
      assertTokenHash(tokenHash);
      live();
      return read(tokenHash);
    },
    async create(record) {
      const valid = assertTokenRecord(record);
      live();
      await store(valid);
      await announceQuietly([{ type: 'created', tokenHash: valid.tokenHash, tenantId: valid.tenantId }]);
    },
    async revoke(tokenHash) {
      assertTokenHash(tokenHash);
      live();
      let reply: unknown;
      try {
        reply = await connection.run(REVOKE_TOKEN, [keys.tokenRecord(tokenHash)]);
      } catch (error) {
        if (outbox === undefined || !isUnreachable(error)) throw error;
        await outbox.enqueue({ kind: 'token.revoke', tokenHash });
        throw queuedError('revocation', outbox.dir, error);
      }
      const record = fromFields(tokenHash, reply);
      if (record === undefined) return undefined;
      const changes: TokenChange[] = [{ type: 'revoked', tokenHash, tenantId: record.tenantId }];
      try {
        await announce(changes);
      } catch (error) {
        if (outbox !== undefined && isUnreachable(error)) {
          // Stored; other nodes hear of it when the feed shard answers again. Every lookup already sees it.
          await outbox.enqueue({ kind: 'token.announce', changes });
          logger.warn(`A revocation is stored; its announcement to other nodes is queued in ${outbox.dir}.`);
          return record;
        }
        // Stored but unannounced: other nodes would trust their caches until they expire. Say so;
        // revoking again is safe and announces again.
        throw backendError(error, 'announce the revocation (it is stored; revoke again to announce it)');
      }
      return record;
    },
    async rotate(tokenHash, successor, graceUntil) {
      assertTokenHash(tokenHash);
      const next = assertTokenRecord(successor);
      if (!Number.isSafeInteger(graceUntil) || graceUntil < 0)
        throw new MultiTenantError('BAD_REQUEST', 'graceUntil must be epoch milliseconds.');
      live();
      const old = await read(tokenHash);
      if (old === undefined) throw new MultiTenantError('NOT_FOUND', 'No token with this hash exists.');
      if (old.status !== 'active') throw new MultiTenantError('TOKEN_REVOKED', 'A revoked or expired token cannot be rotated.');
      if (next.tenantId !== old.tenantId) throw new MultiTenantError('BAD_REQUEST', 'A successor token must belong to the same tenant.');
      await store(next);
      let reply: unknown[];
      try {
        reply = await connection.run<unknown[]>(
          ROTATE_TOKEN,
          [keys.tokenRecord(tokenHash)],
          [old.tenantId, next.tokenHash, String(graceUntil), String(retentionMs)],
        );
      } catch (error) {
        await connection.send(keys.tokenRecord(next.tokenHash), ['DEL', keys.tokenRecord(next.tokenHash)]).catch(() => undefined);
        throw error;
      }
      if (reply[0] !== 'OK') {
        // Revoked (or gone) between the read and the script: take the successor back.
        await connection.send(keys.tokenRecord(next.tokenHash), ['DEL', keys.tokenRecord(next.tokenHash)]);
        const code = reply[0] === 'NOT_FOUND' ? 'NOT_FOUND' : reply[0] === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'TOKEN_REVOKED';
        throw new MultiTenantError(
          code,
          code === 'NOT_FOUND' ? 'No token with this hash exists.' : 'The token changed during rotation and cannot be rotated.',
        );
      }
      await announceQuietly([
        { type: 'created', tokenHash: next.tokenHash, tenantId: next.tenantId },
        { type: 'rotated', tokenHash, tenantId: old.tenantId },
      ]);
      return fromFields(tokenHash, reply.slice(1))!;
    },
    async listByTenant(tenantId) {
      assertTenantId(tenantId);
      live();
      const indexKey = keys.tenantTokens(tenantId);
      const entries = fieldsOf(await connection.run(LIST_TOKEN_INDEX, [indexKey]));
      const records = await Promise.all([...entries.keys()].map((hash) => read(hash)));
      const out: TokenRecord[] = [];
      const stale: string[] = [];
      const cutoff = Date.now() - PRUNE_AFTER_MS;
      [...entries].forEach(([hash, indexedAt], i) => {
        const record = records[i];
        if (record !== undefined && record.tenantId === tenantId) out.push(record);
        else if (Number(indexedAt) < cutoff) stale.push(hash);
      });
      if (stale.length > 0) await connection.send(indexKey, ['ZREM', indexKey, ...stale]).catch(() => undefined);
      return out.sort((a, b) => a.createdAt - b.createdAt || (a.tokenHash < b.tokenHash ? -1 : 1));
    },
    async *tenants() {
      live();
      // A tenant's token index lists every hash it was given (it may outlive records that expired away).
      yield* scanTenants(connection, keys, 'tokens');
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
