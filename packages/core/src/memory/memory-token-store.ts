import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type { TokenChange, TokenRecord, TokenStore } from '../contracts/token-store.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { assertTokenHash, assertTokenRecord } from '../tokens/token-record.js';
import { createListeners, scopedListeners, type Listeners } from '../contracts/listeners.js';

/** A {@link TokenStore} with every optional method, as the in-memory store provides. */
export type MemoryTokenStore = TokenStore &
  Required<Pick<TokenStore, 'get' | 'create' | 'revoke' | 'rotate' | 'listByTenant' | 'tenants' | 'watch' | 'close'>>;

/** Backing state of a memory token store; stores sharing it see each other's data and changes. */
export interface MemoryTokenState {
  records: Map<string, TokenRecord>;
  listeners: Listeners<TokenChange>;
}

/** Fresh state for {@link createMemoryTokenStore}. */
export function createMemoryTokenState(): MemoryTokenState {
  return { records: new Map(), listeners: createListeners() };
}

/** Options for {@link createMemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Backing state; pass the same one to two stores to simulate another process on shared storage. */
  state?: MemoryTokenState;
}

/** Token records in process memory: for tests, examples and single-process embedding. */
export function createMemoryTokenStore(options: MemoryTokenStoreOptions = {}): MemoryTokenStore {
  const { records, listeners } = options.state ?? createMemoryTokenState();
  const scoped = scopedListeners(listeners);
  const copy = (record: TokenRecord): TokenRecord => ({ ...record });
  let closed = false;
  const usable = (): void => {
    if (closed) throw new MultiTenantError('CLOSED', 'The memory token store is closed.');
  };

  return {
    name: 'memory',
    capabilities: { write: true, list: true, watch: true },
    async get(tokenHash) {
      usable();
      const record = records.get(assertTokenHash(tokenHash));
      return record && copy(record);
    },
    async create(record) {
      usable();
      const valid = copy(assertTokenRecord(record));
      if (records.has(valid.tokenHash)) throw new MultiTenantError('CONFLICT', 'A token with this hash already exists.');
      records.set(valid.tokenHash, valid);
      listeners.emit({ type: 'created', tokenHash: valid.tokenHash, tenantId: valid.tenantId });
    },
    async revoke(tokenHash) {
      usable();
      const record = records.get(assertTokenHash(tokenHash));
      if (record === undefined) return undefined;
      record.status = 'revoked';
      listeners.emit({ type: 'revoked', tokenHash, tenantId: record.tenantId });
      return copy(record);
    },
    async rotate(tokenHash, successor, graceUntil) {
      usable();
      const old = records.get(assertTokenHash(tokenHash));
      const next = copy(assertTokenRecord(successor));
      if (old === undefined) throw new MultiTenantError('NOT_FOUND', 'No token with this hash exists.');
      if (old.status !== 'active') throw new MultiTenantError('TOKEN_REVOKED', 'A revoked or expired token cannot be rotated.');
      if (next.tenantId !== old.tenantId) throw new MultiTenantError('BAD_REQUEST', 'A successor token must belong to the same tenant.');
      if (records.has(next.tokenHash)) throw new MultiTenantError('CONFLICT', 'A token with this hash already exists.');
      records.set(next.tokenHash, next);
      old.expiresAt = Math.min(old.expiresAt ?? Number.MAX_SAFE_INTEGER, graceUntil);
      old.rotatedTo = next.tokenHash;
      listeners.emit({ type: 'created', tokenHash: next.tokenHash, tenantId: next.tenantId });
      listeners.emit({ type: 'rotated', tokenHash, tenantId: old.tenantId });
      return copy(old);
    },
    async listByTenant(tenantId) {
      usable();
      assertTenantId(tenantId);
      return [...records.values()]
        .filter((record) => record.tenantId === tenantId)
        .map(copy)
        .sort((a, b) => a.createdAt - b.createdAt);
    },
    async *tenants() {
      usable();
      yield* new Set([...records.values()].map((record) => record.tenantId));
    },
    watch: scoped.add,
    async close() {
      closed = true;
      scoped.clear();
    },
  };
}
