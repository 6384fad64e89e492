/** A JSON value as stored in tenant configs. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A tenant's own settings, merged over the operator's defaults. Free-form JSON object. */
export type TenantConfig = { [key: string]: JsonValue };

/** Whether a tenant may authenticate and activate. */
export type TenantStatus = 'active' | 'suspended' | 'deleted';

/** One tenant's config at one version. */
export interface TenantConfigEntry {
  tenantId: string;
  status: TenantStatus;
  config: TenantConfig;
  /** Increases by at least one on every change of this tenant; never reused. */
  version: number;
  /** Epoch milliseconds of the change, as stamped by the writer (informational; ordering uses `version`). */
  updatedAt: number;
}

/** One page of the change feed. */
export interface ConfigChangesPage {
  /** Latest entry of each tenant changed after the given cursor, including suspensions and deletions. */
  entries: TenantConfigEntry[];
  /** Opaque cursor to pass next time. Never a client timestamp. */
  cursor: string;
  /** Whether more changes are waiting after `cursor`. */
  hasMore: boolean;
}

/** Fields of a config update; omitted fields keep their current value. */
export interface TenantConfigUpdate {
  /** Replaces the whole config. */
  config?: TenantConfig;
  status?: TenantStatus;
}

/** What a {@link ConfigSource} can do beyond `get`. */
export interface ConfigSourceCapabilities {
  /** `set`, `put` and `remove` are implemented. */
  readonly write: boolean;
  /** `changes` is implemented. */
  readonly changes: boolean;
  /** `watch` delivers changes made by other processes or nodes. */
  readonly watch: boolean;
  /** `tenants` is implemented. */
  readonly list: boolean;
}

/**
 * Where tenant configs and statuses come from. Sources compose: operator defaults ← this source
 * (file, Redis) ← Cloud Backend sync (which writes the last-known-good copy through `put`).
 *
 * Every method validates first and changes nothing on failure: an invalid tenant id is
 * `TENANT_ID_INVALID`, an invalid config, status or entry is `CONFIG_INVALID` (`assertTenantConfig`,
 * `assertConfigEntry`), an unreadable cursor is `BAD_REQUEST`, an outage is `BACKEND_UNAVAILABLE`.
 * Versions of a tenant only ever increase, across `set`, `put` and `remove` (keep a high-water mark).
 * Returned entries are copies; tenant ids compare exactly (`Acme` and `acme` are two tenants).
 */
export interface ConfigSource {
  readonly name: string;
  readonly capabilities: ConfigSourceCapabilities;
  /** The tenant's current entry, or `undefined` when the source has none. */
  get(tenantId: string): Promise<TenantConfigEntry | undefined>;
  /**
   * Applies a local change and bumps the version by one; a new tenant starts as `active` with `{}`.
   * With `ifVersion`, throws `CONFLICT` unless the current version matches (0 meaning "no entry
   * yet"). Concurrent sets never lose an update: each gets its own version.
   */
  set?(tenantId: string, update: TenantConfigUpdate, options?: { ifVersion?: number }): Promise<TenantConfigEntry>;
  /**
   * Stores an entry from an upstream source verbatim when its version is newer than the stored one.
   * Returns whether it was stored. This is how a last-known-good copy is persisted.
   */
  put?(entry: TenantConfigEntry): Promise<boolean>;
  /**
   * Forgets a tenant's entry; returns whether it existed. Not reported by `changes` or `watch` (set
   * `status: 'deleted'` to announce a deletion); a later `set` continues above the removed version.
   */
  remove?(tenantId: string): Promise<boolean>;
  /**
   * The latest entry of each tenant changed after `cursor` (from the start when omitted or `''`), in
   * change order, at most `limit` (default 500) per page. An empty page returns the cursor it was
   * given (or one equivalent). `parseSequenceCursor` suits sources whose cursor is a sequence number.
   * Numbers must follow commit order: a reader that has seen number N must never later meet a change
   * numbered below N. A SQL sequence or auto-increment is assigned when the row is written, not when its
   * transaction commits, so a reader can skip a late commit: take the number under the same write lock
   * that commits it (SQLite `BEGIN IMMEDIATE`), or hand out cursors only up to the oldest open writer.
   */
  changes?(cursor?: string, limit?: number): Promise<ConfigChangesPage>;
  /** Every tenant id with an entry — suspended and `deleted`-status ones included — in no particular order. */
  tenants?(): AsyncIterable<string>;
  /**
   * Subscribes to changes from any writer (this instance, other processes, other nodes), in order
   * and promptly; returns an unsubscribe function.
   */
  watch?(listener: (entry: TenantConfigEntry) => void): () => void;
  /** Releases connections, watchers and timers. Idempotent; later calls on this instance throw `CLOSED`. */
  close?(): Promise<void>;
}
