import { assertAuditEntry, filterAuditEntries } from '@openclaw-mt/core/contracts';
import type { AuditEntry, AuditLog, AuditQuery } from '@openclaw-mt/core';
import { FEED_SHARDS, shardOfTenant } from './feed-shards.js';
import { integerOption, openStore, type RedisStoreOptions } from './store-options.js';

/** Options for {@link createRedisAuditLog}. */
export interface RedisAuditLogOptions extends RedisStoreOptions {
  /** Entries kept (approximately; older ones are trimmed). Default 100,000. */
  maxEntries?: number;
}

/** A {@link AuditLog} on Redis, with `close`. */
export type RedisAuditLog = AuditLog & { close(): Promise<void> };

/**
 * The audit log as Redis streams shared by every node and tool of the fleet, one per feed shard (an
 * entry goes to its tenant's shard, or its actor's when it names no tenant), so no single Cluster slot
 * carries every entry: `XADD` with approximate trimming, read newest first with `XREVRANGE` and merged.
 */
export function createRedisAuditLog(options: RedisAuditLogOptions): RedisAuditLog {
  const { keys, connection, release } = openStore(options);
  const maxEntries = integerOption(options.maxEntries, 100_000, 'maxEntries', 1);
  const perShard = String(Math.max(1, Math.ceil(maxEntries / FEED_SHARDS)));

  /** Up to `limit` entries of one shard that pass the query, newest first, with their stream ids. */
  async function listShard(shard: number, query: AuditQuery, limit: number): Promise<Array<{ id: string; entry: AuditEntry }>> {
    const key = keys.auditLog(shard);
    const out: Array<{ id: string; entry: AuditEntry }> = [];
    let end = '+';
    // Page backwards until the filter has enough entries or the stream (or the time window) ends.
    for (;;) {
      const page = await connection.send<Array<[string, string[]]>>(key, ['XREVRANGE', key, end, '-', 'COUNT', '500']);
      const entries = page.flatMap(([id, fields]) => {
        const index = fields.indexOf('entry');
        try {
          return index === -1 ? [] : [{ id, entry: JSON.parse(fields[index + 1]!) as AuditEntry }];
        } catch {
          return [];
        }
      });
      const kept = new Set(
        filterAuditEntries(
          entries.map(({ entry }) => entry),
          { ...query, limit: limit - out.length },
        ),
      );
      out.push(...entries.filter(({ entry }) => kept.has(entry)));
      const oldest = entries.at(-1)?.entry;
      if (out.length >= limit || page.length < 500 || (query.since !== undefined && oldest !== undefined && oldest.at < query.since))
        return out;
      end = `(${page.at(-1)![0]}`;
    }
  }

  return {
    name: 'redis',
    async append(entry) {
      const clean = assertAuditEntry(entry);
      const key = keys.auditLog(shardOfTenant(clean.tenantId ?? clean.actor));
      await connection.send(key, ['XADD', key, 'MAXLEN', '~', perShard, '*', 'entry', JSON.stringify(clean)]);
    },
    async list(query = {}) {
      const limit = query.limit ?? 100;
      const shards = query.tenantId === undefined ? Array.from({ length: FEED_SHARDS }, (_, i) => i) : [shardOfTenant(query.tenantId)];
      const found = (await Promise.all(shards.map((shard) => listShard(shard, query, limit)))).flat();
      found.sort((x, y) => y.entry.at - x.entry.at || compareStreamIds(y.id, x.id));
      return found.slice(0, limit).map(({ entry }) => entry);
    },
    async close() {
      await release();
    },
  };
}

/** Stream entry ids compare as (milliseconds, sequence) pairs. */
function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
