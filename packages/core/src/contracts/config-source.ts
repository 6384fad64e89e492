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
 */
export interface ConfigSource {
  readonly name: string;
  readonly capabilities: ConfigSourceCapabilities;
  /** The tenant's current entry, or `undefined` when the source has none. */
  get(tenantId: string): Promise<TenantConfigEntry | undefined>;
  /**
   * Applies a local change and bumps the version. With `ifVersion`, throws `CONFLICT` unless the
   * current version matches (0 meaning "no entry yet").
   */
  set?(tenantId: string, update: TenantConfigUpdate, options?: { ifVersion?: number }): Promise<TenantConfigEntry>;
  /**
   * Stores an entry from an upstream source verbatim when its version is newer than the stored one.
   * Returns whether it was stored. This is how a last-known-good copy is persisted.
   */
  put?(entry: TenantConfigEntry): Promise<boolean>;
  /** Forgets a tenant entirely; returns whether it existed. */
  remove?(tenantId: string): Promise<boolean>;
  /** Entries changed after `cursor` (from the start when omitted), at most `limit` of them. */
  changes?(cursor?: string, limit?: number): Promise<ConfigChangesPage>;
  /** Every tenant id with an entry, in no particular order. */
  tenants?(): AsyncIterable<string>;
  /** Subscribes to changes from any writer; returns an unsubscribe function. */
  watch?(listener: (entry: TenantConfigEntry) => void): () => void;
  close?(): Promise<void>;
}
