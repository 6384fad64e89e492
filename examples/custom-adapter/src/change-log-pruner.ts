import type { SqliteDatabase } from './sqlite-driver.js';

/** How long change-log rows are kept by default: far longer than any healthy watcher lags. */
export const DEFAULT_CHANGE_LOG_RETENTION_MS = 15 * 60_000;

/**
 * Returns a function to call inside write transactions that deletes change-log rows older than
 * `retentionMs`, at most once a minute per store (the log only feeds live watchers, so it need not
 * be trimmed precisely, and scanning it on every write would be wasted work).
 */
export function createChangeLogPruner(
  db: SqliteDatabase,
  table: 'token_changes' | 'config_changes',
  retentionMs: number,
): (now: number) => void {
  const prune = db.prepare(`DELETE FROM ${table} WHERE at < ?`);
  let last = 0;
  return (now) => {
    if (now - last < 60_000) return;
    last = now;
    prune.run(now - retentionMs);
  };
}
