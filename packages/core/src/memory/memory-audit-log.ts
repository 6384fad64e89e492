import type { AuditEntry, AuditLog } from '../contracts/audit-log.js';
import { assertAuditEntry, filterAuditEntries } from '../audit/audit-entry.js';

/** An audit log in process memory, keeping the newest `maxEntries` (default 10,000). */
export function createMemoryAuditLog(options: { entries?: AuditEntry[]; maxEntries?: number } = {}): AuditLog {
  const entries = options.entries ?? [];
  const max = options.maxEntries ?? 10_000;
  return {
    name: 'memory',
    async append(entry) {
      entries.push(assertAuditEntry(entry));
      if (entries.length > max) entries.splice(0, entries.length - max);
    },
    async list(query) {
      return filterAuditEntries([...entries].reverse(), query).map((entry) => structuredClone(entry));
    },
  };
}
