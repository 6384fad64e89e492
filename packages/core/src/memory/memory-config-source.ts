import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type { ConfigSource, TenantConfigEntry } from '../contracts/config-source.js';
import { createListeners, scopedListeners, type Listeners } from '../contracts/listeners.js';
import { assertConfigEntry, assertTenantConfig } from '../config/tenant-config.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { parseSequenceCursor } from '../contracts/sequence-cursor.js';

/** A {@link ConfigSource} with every optional method, as the in-memory source provides. */
export type MemoryConfigSource = ConfigSource &
  Required<Pick<ConfigSource, 'set' | 'put' | 'remove' | 'changes' | 'tenants' | 'watch' | 'close'>>;

/** Backing state of a memory config source. */
export interface MemoryConfigState {
  entries: Map<string, { entry: TenantConfigEntry; seq: number }>;
  seq: number;
  /** The last version of each removed tenant: a later `set` continues above it. */
  removed: Map<string, number>;
  listeners: Listeners<TenantConfigEntry>;
}

/** Fresh state for {@link createMemoryConfigSource}. */
export function createMemoryConfigState(): MemoryConfigState {
  return { entries: new Map(), seq: 0, removed: new Map(), listeners: createListeners() };
}

/** Options for {@link createMemoryConfigSource}. */
export interface MemoryConfigSourceOptions {
  now?: () => number;
  /** Backing state; pass the same one to two sources to simulate another process on shared storage. */
  state?: MemoryConfigState;
}

/** Tenant configs in process memory, with a change feed whose cursor is a sequence number. */
export function createMemoryConfigSource(options: MemoryConfigSourceOptions = {}): MemoryConfigSource {
  const now = options.now ?? Date.now;
  const state = options.state ?? createMemoryConfigState();
  const { entries, listeners } = state;
  const scoped = scopedListeners(listeners);
  const copy = (entry: TenantConfigEntry): TenantConfigEntry => structuredClone(entry);
  let closed = false;
  const usable = (): void => {
    if (closed) throw new MultiTenantError('CLOSED', 'The memory config source is closed.');
  };
  const highWater = (tenantId: string): number => entries.get(tenantId)?.entry.version ?? state.removed.get(tenantId) ?? 0;

  const store = (entry: TenantConfigEntry): TenantConfigEntry => {
    entries.set(entry.tenantId, { entry: copy(entry), seq: ++state.seq });
    listeners.emit(copy(entry));
    return copy(entry);
  };

  return {
    name: 'memory',
    capabilities: { write: true, changes: true, watch: true, list: true },
    async get(tenantId) {
      usable();
      const found = entries.get(assertTenantId(tenantId));
      return found && copy(found.entry);
    },
    async set(tenantId, update, options = {}) {
      usable();
      assertTenantId(tenantId);
      const config = update.config === undefined ? undefined : assertTenantConfig(update.config);
      const current = entries.get(tenantId)?.entry;
      if (options.ifVersion !== undefined && options.ifVersion !== (current?.version ?? 0)) {
        throw new MultiTenantError('CONFLICT', `Config of ${tenantId} changed (now version ${current?.version ?? 0}); re-read and retry.`);
      }
      const next: TenantConfigEntry = {
        tenantId,
        status: update.status ?? current?.status ?? 'active',
        config: config ?? current?.config ?? {},
        version: highWater(tenantId) + 1,
        updatedAt: now(),
      };
      assertConfigEntry(next);
      return store(next);
    },
    async put(entry) {
      usable();
      const valid = assertConfigEntry(entry);
      if (highWater(valid.tenantId) >= valid.version) return false;
      store(valid);
      return true;
    },
    async remove(tenantId) {
      usable();
      const found = entries.get(assertTenantId(tenantId));
      if (found === undefined) return false;
      state.removed.set(tenantId, found.entry.version);
      return entries.delete(tenantId);
    },
    async changes(cursor, limit = 500) {
      usable();
      const after = parseSequenceCursor(cursor);
      const page = [...entries.values()].filter((item) => item.seq > after).sort((a, b) => a.seq - b.seq);
      const taken = page.slice(0, Math.max(1, limit));
      const last = taken.at(-1)?.seq ?? Math.max(after, 0);
      return { entries: taken.map((item) => copy(item.entry)), cursor: String(last), hasMore: page.length > taken.length };
    },
    async *tenants() {
      usable();
      yield* [...entries.keys()];
    },
    watch: scoped.add,
    async close() {
      closed = true;
      scoped.clear();
    },
  };
}
