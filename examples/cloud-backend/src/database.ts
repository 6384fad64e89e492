import { Database, type SqliteDatabase } from './sqlite-driver.js';
import type { TenantConfig } from '@openclaw-mt/core';

/** A user's gateway-visible state. */
export interface UserState {
  userId: string;
  status: 'active' | 'suspended' | 'deleted';
  config: TenantConfig;
  version: number;
  updatedAt: number;
}

/** A token's lifecycle event, as the feed (v1.1) and pushes carry it: by hash, never the token. */
export interface TokenEventRow {
  tokenHash: string;
  userId: string;
  type: 'revoked' | 'rotated' | 'expired';
  at: number;
  expiresAt?: number | null;
}

/** What one committed change produced, for the push sender: its sequence and its feed entries. */
export interface ChangeRecord {
  seq: number;
  users: UserState[];
  tokens: TokenEventRow[];
}

/** A stored gateway token (its hash, never the token). */
export interface TokenRow {
  id: string;
  tokenHash: string;
  userId: string;
  label: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  rotatedTo: string | null;
}

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  status: UserState['status'];
  config: string;
  version: number;
  updated_at: number;
  change_seq: number;
}

interface TokenEventDbRow {
  seq: number;
  token_hash: string;
  user_id: string;
  type: TokenEventRow['type'];
  at: number;
  expires_at: number | null;
}

interface TokenDbRow {
  id: string;
  token_hash: string;
  user_id: string;
  label: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  rotated_to: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
  config        TEXT NOT NULL DEFAULT '{}',
  version       INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  -- Position of the user's latest change in the feed; moves forward on every change.
  change_seq    INTEGER NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS gateway_tokens (
  id          TEXT PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  user_id     TEXT NOT NULL REFERENCES users (id),
  label       TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER,
  rotated_to  TEXT
);
CREATE INDEX IF NOT EXISTS gateway_tokens_by_user ON gateway_tokens (user_id);
-- Token events (revoked, rotated, expired) share the change sequence with users, so the feed orders both.
CREATE TABLE IF NOT EXISTS token_events (
  seq         INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  type        TEXT NOT NULL CHECK (type IN ('revoked', 'rotated', 'expired')),
  at          INTEGER NOT NULL,
  expires_at  INTEGER
);
CREATE TABLE IF NOT EXISTS change_sequence (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO change_sequence (id, value) VALUES (1, 0);
`;

/**
 * The backend's storage on SQLite. Every change of a user (config, status, deletion) takes the next
 * value of one monotonically increasing change sequence and bumps the user's version, inside one
 * transaction; the config feed is "users whose latest change is after the cursor, by sequence".
 */
export class BackendDatabase {
  private readonly db: SqliteDatabase;

  constructor(path: string) {
    this.db = new Database(path);
    if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  /**
   * Moves everything from the write-ahead log into the database file, then closes: the file alone holds
   * every change once this returns (the binding may release its connection, and delete the log, later).
   */
  close(): void {
    if (!this.db.open) return;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  /** The newest change sequence value (0 for an empty feed). */
  head(): number {
    return (this.db.prepare('SELECT value FROM change_sequence WHERE id = 1').get() as { value: number }).value;
  }

  createUser(id: string, email: string, passwordHash: string, now: number): UserState | undefined {
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM users WHERE email = ?').get(email) !== undefined) return undefined;
      const seq = this.nextSequence();
      this.db
        .prepare(
          `INSERT INTO users (id, email, password_hash, status, config, version, created_at, updated_at, change_seq)
           VALUES (?, ?, ?, 'active', '{}', 1, ?, ?, ?)`,
        )
        .run(id, email, passwordHash, now, now, seq);
      return this.user(id);
    })();
  }

  credentials(email: string): { userId: string; passwordHash: string; status: UserState['status'] } | undefined {
    const row = this.db.prepare('SELECT id, password_hash, status FROM users WHERE email = ?').get(email) as UserRow | undefined;
    return row && { userId: row.id, passwordHash: row.password_hash, status: row.status };
  }

  user(id: string): UserState | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && toState(row);
  }

  /**
   * Applies `change` to a user in one transaction: the new state gets the next change sequence and
   * version + 1. `ifVersion` makes it a compare-and-set. Returns the new state, `undefined` for an
   * unknown user, or `'conflict'`.
   */
  updateUser(
    id: string,
    change: (current: UserState) => Partial<Pick<UserState, 'status' | 'config'>>,
    now: number,
    options: { ifVersion?: number } = {},
  ): UserState | 'conflict' | undefined {
    return this.db.transaction(() => {
      const current = this.user(id);
      if (current === undefined) return undefined;
      if (options.ifVersion !== undefined && options.ifVersion !== current.version) return 'conflict';
      const next = { ...current, ...change(current) };
      const seq = this.nextSequence();
      this.db
        .prepare('UPDATE users SET status = ?, config = ?, version = version + 1, updated_at = ?, change_seq = ? WHERE id = ?')
        .run(next.status, JSON.stringify(next.config), now, seq, id);
      if (next.status === 'deleted') {
        // Free the address for a new account and stop every token of the deleted one.
        this.db.prepare(`UPDATE users SET email = 'deleted:' || id WHERE id = ?`).run(id);
        const live = this.db.prepare('SELECT id FROM gateway_tokens WHERE user_id = ? AND revoked_at IS NULL').all(id) as Array<{
          id: string;
        }>;
        for (const token of live) this.markRevoked(token.id, now);
      }
      return this.user(id);
    })();
  }

  /** Everything with a sequence above `afterSeq` (what a push announces right after a change). */
  changesSince(afterSeq: number): ChangeRecord {
    const users = (this.db.prepare('SELECT * FROM users WHERE change_seq > ? ORDER BY change_seq').all(afterSeq) as UserRow[]).map(toState);
    const tokens = (this.db.prepare('SELECT * FROM token_events WHERE seq > ? ORDER BY seq').all(afterSeq) as TokenEventDbRow[]).map(
      toEvent,
    );
    return { seq: this.head(), users, tokens };
  }

  /**
   * Users whose latest change is after `afterSeq` and token events after it, in one order of change sequence,
   * oldest first, `limit` entries together; one extra row tells whether more wait.
   */
  changesAfter(afterSeq: number, limit: number): { users: UserState[]; tokens: TokenEventRow[]; lastSeq: number; hasMore: boolean } {
    const rows = this.db
      .prepare(
        `SELECT change_seq AS seq, 'user' AS kind FROM users WHERE change_seq > ?
         UNION ALL SELECT seq, 'token' AS kind FROM token_events WHERE seq > ?
         ORDER BY seq LIMIT ?`,
      )
      .all(afterSeq, afterSeq, limit + 1) as Array<{ seq: number; kind: 'user' | 'token' }>;
    const page = rows.slice(0, limit);
    const users: UserState[] = [];
    const tokens: TokenEventRow[] = [];
    for (const row of page) {
      if (row.kind === 'user') users.push(toState(this.db.prepare('SELECT * FROM users WHERE change_seq = ?').get(row.seq) as UserRow));
      else tokens.push(toEvent(this.db.prepare('SELECT * FROM token_events WHERE seq = ?').get(row.seq) as TokenEventDbRow));
    }
    return { users, tokens, lastSeq: page.at(-1)?.seq ?? afterSeq, hasMore: rows.length > limit };
  }

  insertToken(row: TokenRow): void {
    this.db
      .prepare(
        `INSERT INTO gateway_tokens (id, token_hash, user_id, label, created_at, expires_at, revoked_at, rotated_to)
         VALUES (@id, @tokenHash, @userId, @label, @createdAt, @expiresAt, @revokedAt, @rotatedTo)`,
      )
      .run(row);
  }

  /** Stores `successor` and caps the old token's life, atomically, with a `rotated` event in the feed. */
  rotateToken(oldId: string, successor: TokenRow, graceUntil: number, now: number): void {
    this.db.transaction(() => {
      this.insertToken(successor);
      this.db
        .prepare('UPDATE gateway_tokens SET expires_at = MIN(COALESCE(expires_at, ?), ?), rotated_to = ? WHERE id = ?')
        .run(graceUntil, graceUntil, successor.id, oldId);
      const old = this.tokenById(oldId)!;
      this.addTokenEvent(old, 'rotated', now, old.expiresAt);
    })();
  }

  /** Revokes a token (idempotent), with a `revoked` event in the feed the first time. */
  revokeToken(id: string, now: number): void {
    this.db.transaction(() => this.markRevoked(id, now))();
  }

  /** The body of {@link revokeToken}, for callers already inside a transaction (libsql does not nest them). */
  private markRevoked(id: string, now: number): void {
    const changed = this.db.prepare('UPDATE gateway_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes;
    if (changed > 0) this.addTokenEvent(this.tokenById(id)!, 'revoked', now, null);
  }

  private addTokenEvent(token: TokenRow, type: TokenEventRow['type'], now: number, expiresAt: number | null): void {
    this.db
      .prepare('INSERT INTO token_events (seq, token_hash, user_id, type, at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.nextSequence(), token.tokenHash, token.userId, type, now, expiresAt);
  }

  tokenByHash(tokenHash: string): TokenRow | undefined {
    const row = this.db.prepare('SELECT * FROM gateway_tokens WHERE token_hash = ?').get(tokenHash) as TokenDbRow | undefined;
    return row && toToken(row);
  }

  tokenById(id: string): TokenRow | undefined {
    const row = this.db.prepare('SELECT * FROM gateway_tokens WHERE id = ?').get(id) as TokenDbRow | undefined;
    return row && toToken(row);
  }

  tokensOf(userId: string): TokenRow[] {
    return (this.db.prepare('SELECT * FROM gateway_tokens WHERE user_id = ? ORDER BY created_at, id').all(userId) as TokenDbRow[]).map(
      toToken,
    );
  }

  countLiveTokens(userId: string, now: number): number {
    return (
      this.db
        .prepare(
          'SELECT COUNT(*) AS n FROM gateway_tokens WHERE user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
        )
        .get(userId, now) as { n: number }
    ).n;
  }

  private nextSequence(): number {
    return (this.db.prepare('UPDATE change_sequence SET value = value + 1 WHERE id = 1 RETURNING value').get() as { value: number }).value;
  }
}

function toState(row: UserRow): UserState {
  return {
    userId: row.id,
    status: row.status,
    config: row.status === 'deleted' ? {} : (JSON.parse(row.config) as TenantConfig),
    version: row.version,
    updatedAt: row.updated_at,
  };
}

function toEvent(row: TokenEventDbRow): TokenEventRow {
  return {
    tokenHash: row.token_hash,
    userId: row.user_id,
    type: row.type,
    at: row.at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
  };
}

function toToken(row: TokenDbRow): TokenRow {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    rotatedTo: row.rotated_to,
  };
}
