import { MultiTenantError, type TokenChange, type TokenRecord, type TokenStore } from '@openclaw-mt/core';
import { assertTenantId, assertTokenHash, assertTokenRecord } from '@openclaw-mt/core/contracts';
import { createChangeLogPruner } from './change-log-pruner.js';
import { createChangePoller } from './change-poller.js';
import type { SharedDatabase } from './database.js';
import { closedError, guard } from './sqlite-errors.js';

const NAME = 'sqlite';

/** Options of {@link createSqliteTokenStore}. */
export interface SqliteTokenStoreOptions {
  /** How often watchers poll the change log, in ms. */
  pollIntervalMs: number;
  /** How long change-log rows are kept, in ms. */
  changeLogRetentionMs: number;
}

interface TokenRow {
  token_hash: string;
  tenant_id: string;
  status: TokenRecord['status'];
  created_at: number;
  expires_at: number | null;
  label: string | null;
  rotated_to: string | null;
  tenant_status: TokenRecord['tenantStatus'] | null;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    tokenHash: row.token_hash,
    tenantId: row.tenant_id,
    status: row.status,
    createdAt: row.created_at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
    ...(row.label === null ? {} : { label: row.label }),
    ...(row.rotated_to === null ? {} : { rotatedTo: row.rotated_to }),
    ...(row.tenant_status === null ? {} : { tenantStatus: row.tenant_status }),
  };
}

function toRow(record: TokenRecord): TokenRow {
  return {
    token_hash: record.tokenHash,
    tenant_id: record.tenantId,
    status: record.status,
    created_at: record.createdAt,
    expires_at: record.expiresAt ?? null,
    label: record.label ?? null,
    rotated_to: record.rotatedTo ?? null,
    tenant_status: record.tenantStatus ?? null,
  };
}

/**
 * A {@link TokenStore} over the `tokens` table. Every write runs in one `BEGIN IMMEDIATE`
 * transaction that also appends to `token_changes`, which `watch` polls, so changes made through
 * any adapter over the same file (this process or another) are reported.
 */
export function createSqliteTokenStore(shared: SharedDatabase, options: SqliteTokenStoreOptions): TokenStore {
  const { db } = shared;
  shared.retain();
  let closed = false;

  const select = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE token_hash = ?');
  const insert = db.prepare<[TokenRow]>(
    `INSERT INTO tokens (token_hash, tenant_id, status, created_at, expires_at, label, rotated_to, tenant_status)
     VALUES (@token_hash, @tenant_id, @status, @created_at, @expires_at, @label, @rotated_to, @tenant_status)`,
  );
  const update = db.prepare<[TokenRow]>(
    'UPDATE tokens SET status = @status, expires_at = @expires_at, rotated_to = @rotated_to WHERE token_hash = @token_hash',
  );
  const byTenant = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE tenant_id = ? ORDER BY created_at, rowid');
  const tenantIds = db.prepare<[], { tenant_id: string }>('SELECT DISTINCT tenant_id FROM tokens');
  const log = db.prepare<[string, string, string, number]>(
    'INSERT INTO token_changes (type, token_hash, tenant_id, at) VALUES (?, ?, ?, ?)',
  );
  const latest = db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM token_changes');
  const after = db.prepare<[number, number], { seq: number; type: TokenChange['type']; token_hash: string; tenant_id: string }>(
    'SELECT seq, type, token_hash, tenant_id FROM token_changes WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const prune = createChangeLogPruner(db, 'token_changes', options.changeLogRetentionMs);

  const poller = createChangePoller<TokenChange>({
    intervalMs: options.pollIntervalMs,
    latestSeq: () => latest.get()?.seq ?? 0,
    readAfter: (seq, limit) =>
      after.all(seq, limit).map((row) => ({
        seq: row.seq,
        event: { type: row.type, tokenHash: row.token_hash, tenantId: row.tenant_id },
      })),
  });

  const record = (change: TokenChange, now: number): void => {
    log.run(change.type, change.tokenHash, change.tenantId, now);
    prune(now);
  };

  // Each transaction is synchronous end to end, so no await can split a read from its write.
  const createTx = db.transaction((rec: TokenRecord) => {
    if (select.get(rec.tokenHash) !== undefined) {
      throw new MultiTenantError('CONFLICT', 'A token with this hash already exists.');
    }
    insert.run(toRow(rec));
    record({ type: 'created', tokenHash: rec.tokenHash, tenantId: rec.tenantId }, Date.now());
  });

  const revokeTx = db.transaction((tokenHash: string): TokenRecord | undefined => {
    const row = select.get(tokenHash);
    if (row === undefined) return undefined;
    if (row.status !== 'revoked') {
      row.status = 'revoked';
      update.run(row);
      record({ type: 'revoked', tokenHash, tenantId: row.tenant_id }, Date.now());
    }
    return toRecord(row);
  });

  const rotateTx = db.transaction((tokenHash: string, successor: TokenRecord, graceUntil: number): TokenRecord => {
    const row = select.get(tokenHash);
    if (row === undefined) throw new MultiTenantError('NOT_FOUND', 'No token with this hash to rotate.');
    if (row.status === 'revoked') throw new MultiTenantError('TOKEN_REVOKED', 'A revoked token cannot be rotated.');
    if (successor.tenantId !== row.tenant_id) {
      throw new MultiTenantError('BAD_REQUEST', 'A rotated token must belong to the same tenant as the token it replaces.');
    }
    if (select.get(successor.tokenHash) !== undefined) {
      throw new MultiTenantError('CONFLICT', 'The successor token hash already exists.');
    }
    insert.run(toRow(successor));
    // "Limits" the old token's life: never extends an earlier expiry.
    row.expires_at = row.expires_at === null ? graceUntil : Math.min(row.expires_at, graceUntil);
    row.rotated_to = successor.tokenHash;
    update.run(row);
    const now = Date.now();
    record({ type: 'rotated', tokenHash, tenantId: row.tenant_id }, now);
    record({ type: 'created', tokenHash: successor.tokenHash, tenantId: successor.tenantId }, now);
    return toRecord(row);
  });

  const open = (): void => {
    if (closed || !shared.open) throw closedError('The SQLite token store');
  };

  return {
    name: NAME,
    capabilities: { write: true, list: true, watch: true },

    async get(tokenHash) {
      open();
      assertTokenHash(tokenHash);
      return guard('sqlite token store', () => {
        const row = select.get(tokenHash);
        return row === undefined ? undefined : toRecord(row);
      });
    },

    async create(rec) {
      open();
      const valid = assertTokenRecord(rec);
      guard('sqlite token store', () => createTx.immediate(valid));
      poller.nudge();
    },

    async revoke(tokenHash) {
      open();
      assertTokenHash(tokenHash);
      const result = guard('sqlite token store', () => revokeTx.immediate(tokenHash));
      poller.nudge();
      return result;
    },

    async rotate(tokenHash, successor, graceUntil) {
      open();
      assertTokenHash(tokenHash);
      const valid = assertTokenRecord(successor);
      if (!Number.isSafeInteger(graceUntil) || graceUntil < 0) {
        throw new MultiTenantError('BAD_REQUEST', 'graceUntil must be epoch milliseconds.');
      }
      const result = guard('sqlite token store', () => rotateTx.immediate(tokenHash, valid, graceUntil));
      poller.nudge();
      return result;
    },

    async listByTenant(tenantId) {
      open();
      assertTenantId(tenantId);
      return guard('sqlite token store', () => byTenant.all(tenantId).map(toRecord));
    },

    async *tenants() {
      open();
      yield* guard('sqlite token store', () => tenantIds.all().map((row) => row.tenant_id));
    },

    watch(listener) {
      open();
      return guard('sqlite token store', () => poller.watch(listener));
    },

    async close() {
      if (closed) return;
      closed = true;
      poller.close();
      shared.release();
    },
  };
}
