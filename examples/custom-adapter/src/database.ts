import { Database, type SqliteDatabase } from './sqlite-driver.js';
import { MultiTenantError } from '@openclaw-mt/core';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { toStoreError } from './sqlite-errors.js';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the SQLite file; created when missing. */
  filename: string;
  /** How long a writer waits for another connection's write lock, in ms (default 5,000). */
  busyTimeoutMs?: number;
}

/**
 * One SQLite connection shared by the three stores of an adapter. Each store `retain`s it
 * and `release`s it on close; the connection closes with the last release.
 */
export interface SharedDatabase {
  readonly db: SqliteDatabase;
  readonly filename: string;
  retain(): void;
  release(): void;
  /** Whether the connection is still open. */
  readonly open: boolean;
}

/**
 * Opens (creating if needed) the adapter's SQLite file: busy timeout, WAL, and the schema, migrated
 * inside an immediate transaction so two processes opening a new file at once do not race.
 */
export function openDatabase(options: OpenDatabaseOptions): SharedDatabase {
  const { filename, busyTimeoutMs = 5_000 } = options;
  let db: SqliteDatabase;
  try {
    db = new Database(filename, { timeout: busyTimeoutMs });
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // WAL: readers (watch pollers, other processes) never block the writer and vice versa.
    db.pragma('journal_mode = WAL');
    // FULL: a revoked token must stay revoked after a power cut; the cost is one fsync per commit.
    db.pragma('synchronous = FULL');
    migrate(db, filename);
  } catch (error) {
    throw toStoreError(error, 'sqlite');
  }
  let refs = 0;
  return {
    db,
    filename,
    get open() {
      return db.open;
    },
    retain() {
      refs++;
    },
    release() {
      refs--;
      if (refs <= 0 && db.open) db.close();
    },
  };
}

function migrate(db: SqliteDatabase, filename: string): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new MultiTenantError(
        'CONFIG_INVALID',
        `${filename} has schema version ${current}, newer than this adapter's ${SCHEMA_VERSION}; upgrade the adapter.`,
      );
    }
    db.exec(SCHEMA_SQL);
    if (current < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
