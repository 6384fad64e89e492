import { MultiTenantError, type ConfigSource, type TenantConfigEntry, type TenantConfigUpdate } from '@openclaw-mt/core';
import { assertConfigEntry, assertTenantConfig, assertTenantId, parseSequenceCursor } from '@openclaw-mt/core/contracts';
import { createChangeLogPruner } from './change-log-pruner.js';
import { createChangePoller } from './change-poller.js';
import type { SharedDatabase } from './database.js';
import { closedError, guard } from './sqlite-errors.js';

const NAME = 'sqlite';
const WHAT = 'sqlite config source';
/** Page size of `changes()` when the caller gives none, and the most it may ask for. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;

/** Options of {@link createSqliteConfigSource}. */
export interface SqliteConfigSourceOptions {
  /** How often watchers poll the change log, in ms. */
  pollIntervalMs: number;
  /** How long change-log rows are kept, in ms. */
  changeLogRetentionMs: number;
}

interface ConfigRow {
  tenant_id: string;
  status: TenantConfigEntry['status'];
  config: string;
  version: number;
  updated_at: number;
  seq: number;
  removed: number;
}

function toEntry(row: ConfigRow): TenantConfigEntry {
  return {
    tenantId: row.tenant_id,
    status: row.status,
    config: JSON.parse(row.config) as TenantConfigEntry['config'],
    version: row.version,
    updatedAt: row.updated_at,
  };
}

/**
 * A {@link ConfigSource} over the `configs` table. Every change runs in one `BEGIN IMMEDIATE`
 * transaction that (1) writes the tenant's row, (2) appends the full entry to `config_changes` and
 * (3) stamps the row with that log row's sequence number. The sequence number is the `changes()`
 * cursor; the log feeds `watch` across processes.
 */
export function createSqliteConfigSource(shared: SharedDatabase, options: SqliteConfigSourceOptions): ConfigSource {
  const { db } = shared;
  shared.retain();
  let closed = false;

  const select = db.prepare<[string], ConfigRow>('SELECT * FROM configs WHERE tenant_id = ?');
  const upsert = db.prepare<[ConfigRow]>(
    `INSERT INTO configs (tenant_id, status, config, version, updated_at, seq, removed)
     VALUES (@tenant_id, @status, @config, @version, @updated_at, @seq, 0)
     ON CONFLICT (tenant_id) DO UPDATE SET status = excluded.status, config = excluded.config,
       version = excluded.version, updated_at = excluded.updated_at, seq = excluded.seq, removed = 0`,
  );
  // A tombstone keeps only the version (the high-water mark); the config itself is forgotten.
  const tombstone = db.prepare<[string]>("UPDATE configs SET removed = 1, config = '{}' WHERE tenant_id = ?");
  const log = db.prepare<[string, string, number]>('INSERT INTO config_changes (tenant_id, entry, at) VALUES (?, ?, ?)');
  const page = db.prepare<[number, number], ConfigRow>('SELECT * FROM configs WHERE removed = 0 AND seq > ? ORDER BY seq LIMIT ?');
  const live = db.prepare<[], { tenant_id: string }>('SELECT tenant_id FROM configs WHERE removed = 0');
  const latest = db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM config_changes');
  const after = db.prepare<[number, number], { seq: number; entry: string }>(
    'SELECT seq, entry FROM config_changes WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const prune = createChangeLogPruner(db, 'config_changes', options.changeLogRetentionMs);

  const poller = createChangePoller<TenantConfigEntry>({
    intervalMs: options.pollIntervalMs,
    latestSeq: () => latest.get()?.seq ?? 0,
    readAfter: (seq, limit) => after.all(seq, limit).map((row) => ({ seq: row.seq, event: JSON.parse(row.entry) as TenantConfigEntry })),
  });

  /** Writes `entry` as the tenant's current one and logs it; runs inside a transaction. */
  const store = (entry: TenantConfigEntry): void => {
    const now = Date.now();
    const json = JSON.stringify(entry);
    const seq = Number(log.run(entry.tenantId, json, now).lastInsertRowid);
    upsert.run({
      tenant_id: entry.tenantId,
      status: entry.status,
      config: JSON.stringify(entry.config),
      version: entry.version,
      updated_at: entry.updatedAt,
      seq,
      removed: 0,
    });
    prune(now);
  };

  // Read, compare and write in one immediate transaction: two writers can never both pass the
  // ifVersion check, and no update is lost (the second writer waits for the first to commit).
  const setTx = db.transaction((tenantId: string, update: TenantConfigUpdate, ifVersion: number | undefined) => {
    const row = select.get(tenantId);
    const current = row === undefined || row.removed === 1 ? undefined : row;
    const currentVersion = current?.version ?? 0;
    if (ifVersion !== undefined && ifVersion !== currentVersion) {
      throw new MultiTenantError('CONFLICT', `Config of ${tenantId} is at version ${currentVersion}, not ${ifVersion}; reload and retry.`, {
        details: { tenantId, version: currentVersion, expected: ifVersion },
      });
    }
    const entry = assertConfigEntry({
      tenantId,
      status: update.status ?? current?.status ?? 'active',
      config: update.config ?? (current === undefined ? {} : (JSON.parse(current.config) as TenantConfigEntry['config'])),
      // Above every version this tenant ever had, including a removed one: versions are never reused.
      version: (row?.version ?? 0) + 1,
      updatedAt: Date.now(),
    });
    store(entry);
    return entry;
  });

  const putTx = db.transaction((entry: TenantConfigEntry): boolean => {
    const row = select.get(entry.tenantId);
    if (row !== undefined && row.removed === 0 && row.version >= entry.version) return false;
    store(entry);
    return true;
  });

  const removeTx = db.transaction((tenantId: string): boolean => {
    const row = select.get(tenantId);
    if (row === undefined || row.removed === 1) return false;
    tombstone.run(tenantId);
    return true;
  });

  const open = (): void => {
    if (closed || !shared.open) throw closedError('The SQLite config source');
  };

  return {
    name: NAME,
    capabilities: { write: true, changes: true, watch: true, list: true },

    async get(tenantId) {
      open();
      assertTenantId(tenantId);
      return guard(WHAT, () => {
        const row = select.get(tenantId);
        return row === undefined || row.removed === 1 ? undefined : toEntry(row);
      });
    },

    async set(tenantId, update, setOptions) {
      open();
      assertTenantId(tenantId);
      if (typeof update !== 'object' || update === null) throw new MultiTenantError('BAD_REQUEST', 'A config update must be an object.');
      if (update.config !== undefined) assertTenantConfig(update.config);
      const ifVersion = setOptions?.ifVersion;
      if (ifVersion !== undefined && (!Number.isSafeInteger(ifVersion) || ifVersion < 0)) {
        throw new MultiTenantError('BAD_REQUEST', 'ifVersion must be a non-negative integer (0 = no entry yet).');
      }
      // Copy the caller's config so later mutations of their object cannot reach the stored entry.
      const copy: TenantConfigUpdate = {
        ...(update.config === undefined ? {} : { config: structuredClone(update.config) }),
        ...(update.status === undefined ? {} : { status: update.status }),
      };
      const entry = guard(WHAT, () => setTx.immediate(tenantId, copy, ifVersion));
      poller.nudge();
      return entry;
    },

    async put(entry) {
      open();
      const valid = assertConfigEntry(entry);
      const copy: TenantConfigEntry = {
        tenantId: valid.tenantId,
        status: valid.status,
        config: structuredClone(valid.config),
        version: valid.version,
        updatedAt: valid.updatedAt,
      };
      const stored = guard(WHAT, () => putTx.immediate(copy));
      if (stored) poller.nudge();
      return stored;
    },

    async remove(tenantId) {
      open();
      assertTenantId(tenantId);
      return guard(WHAT, () => removeTx.immediate(tenantId));
    },

    async changes(cursor, limit = DEFAULT_PAGE) {
      open();
      const from = parseSequenceCursor(cursor);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new MultiTenantError('BAD_REQUEST', 'limit must be a positive integer.');
      const size = Math.min(limit, MAX_PAGE);
      return guard(WHAT, () => {
        // One row per tenant holds only its latest entry, so the page is already "latest of each".
        const rows = page.all(from, size + 1);
        const hasMore = rows.length > size;
        const shown = hasMore ? rows.slice(0, size) : rows;
        const last = shown.at(-1);
        return { entries: shown.map(toEntry), cursor: String(last === undefined ? from : last.seq), hasMore };
      });
    },

    async *tenants() {
      open();
      // Read everything first: a write while an iterator is open is refused by some bindings (better-sqlite3).
      const ids = guard(WHAT, () => live.all().map((row) => row.tenant_id));
      yield* ids;
    },

    watch(listener) {
      open();
      return guard(WHAT, () => poller.watch(listener));
    },

    async close() {
      if (closed) return;
      closed = true;
      poller.close();
      shared.release();
    },
  };
}
