import { assertAuditEntry, filterAuditEntries, type AuditEntry, type AuditLog } from '@openclaw-mt/core';
import { integerOption, openStore, type RedisStoreOptions } from './store-options.js';

/** Options for {@link createRedisAuditLog}. */
export interface RedisAuditLogOptions extends RedisStoreOptions {
  /** Entries kept (approximately; older ones are trimmed). Default 100,000. */
  maxEntries?: number;
}

/** A {@link AuditLog} on Redis, with `close`. */
export type RedisAuditLog = AuditLog & { close(): Promise<void> };

/**
 * The audit log as a Redis stream shared by every node and tool of the fleet: `XADD` with
 * approximate trimming, read newest first with `XREVRANGE`.
 */
export function createRedisAuditLog(options: RedisAuditLogOptions): RedisAuditLog {
  const { keys, connection, release } = openStore(options);
  const maxEntries = integerOption(options.maxEntries, 100_000, 'maxEntries', 1);
  const key = keys.auditLog;
  return {
    name: 'redis',
    async append(entry) {
      const clean = assertAuditEntry(entry);
      await connection.send(key, ['XADD', key, 'MAXLEN', '~', String(maxEntries), '*', 'entry', JSON.stringify(clean)]);
    },
    async list(query = {}) {
      const limit = query.limit ?? 100;
      const out: AuditEntry[] = [];
      let end = '+';
      // Page backwards until the filter has enough entries or the stream (or the time window) ends.
      for (;;) {
        const page = await connection.send<Array<[string, string[]]>>(key, ['XREVRANGE', key, end, '-', 'COUNT', '500']);
        const entries = page.flatMap(([, fields]) => {
          const index = fields.indexOf('entry');
          try {
            return index === -1 ? [] : [JSON.parse(fields[index + 1]!) as AuditEntry];
          } catch {
            return [];
          }
        });
        out.push(...filterAuditEntries(entries, { ...query, limit: limit - out.length }));
        const oldest = entries.at(-1);
        if (out.length >= limit || page.length < 500 || (query.since !== undefined && oldest !== undefined && oldest.at < query.since)) break;
        end = `(${page.at(-1)![0]}`;
      }
      return out;
    },
    async close() {
      await release();
    },
  };
}
