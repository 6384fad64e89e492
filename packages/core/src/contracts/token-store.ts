/** Lifecycle state of one token. Expiry is also derived from `expiresAt`. */
export type TokenStatus = 'active' | 'revoked' | 'expired';

/** What a store knows about one token. Stores never hold the token itself, only its hash. */
export interface TokenRecord {
  /** Hex HMAC-SHA256 (or SHA-256) of the token: the only key a store ever sees. */
  tokenHash: string;
  /** The tenant this token authenticates as. */
  tenantId: string;
  /** Token state; `active` tokens may still be past `expiresAt`. */
  status: TokenStatus;
  /** Epoch milliseconds of issue. */
  createdAt: number;
  /** Epoch milliseconds after which the token no longer authenticates. */
  expiresAt?: number;
  /** Operator-facing label ("laptop", "ci"). Never a secret. */
  label?: string;
  /** Hash of the token that replaced this one, set by rotation. */
  rotatedTo?: string;
  /**
   * Tenant state, for stores that know it alongside the token (a Cloud Backend's verify answer).
   * When absent, the manager asks the {@link ConfigSource}.
   */
  tenantStatus?: 'active' | 'suspended' | 'deleted';
}

/** A change to one token, delivered by {@link TokenStore.watch} (possibly from another process or node). */
export interface TokenChange {
  type: 'created' | 'revoked' | 'rotated';
  tokenHash: string;
  tenantId: string;
}

/** What a {@link TokenStore} can do beyond lookups. */
export interface TokenStoreCapabilities {
  /** `create`, `revoke` and `rotate` are implemented. */
  readonly write: boolean;
  /** `listByTenant` and `tenants` are implemented. */
  readonly list: boolean;
  /** `watch` delivers changes made by other processes or nodes. */
  readonly watch: boolean;
}

/**
 * Token lookup and lifecycle storage. Keyed by token hash only. A store answers definitely (a record,
 * or `undefined` for "no such token") or throws `BACKEND_UNAVAILABLE`; the manager caches only
 * definite answers. Policy (format checks, hashing, expiry, caching) lives in core, not here.
 *
 * Every method validates its input before any I/O and changes nothing on failure: a malformed hash
 * or record is `BAD_REQUEST` (`assertTokenHash`, `assertTokenRecord`), an invalid tenant id is
 * `TENANT_ID_INVALID` (`assertTenantId`), an outage is `BACKEND_UNAVAILABLE`. Records are returned
 * as copies, field for field as stored (including `tenantStatus` when given); tenant ids compare exactly
 * (`Acme` and `acme` are two tenants).
 */
export interface TokenStore {
  /** Short name used in error messages and logs (`memory`, `fs`, `redis`, `cloud`). */
  readonly name: string;
  readonly capabilities: TokenStoreCapabilities;
  /** The record stored under `tokenHash`, or `undefined` when there is none. Hash-keyed stores implement this. */
  get?(tokenHash: string): Promise<TokenRecord | undefined>;
  /**
   * Remote verifiers (a Cloud Backend) implement this instead of `get`: they receive the token itself,
   * only ever in a request body. The returned record's `tokenHash` is ignored; the manager sets it.
   */
  verify?(token: string): Promise<Omit<TokenRecord, 'tokenHash'> | undefined>;
  /**
   * Stores a new record; throws `CONFLICT` if the hash exists. Of concurrent creates of one hash (from
   * any instance, process or node) exactly one succeeds: check and insert in one atomic step.
   */
  create?(record: TokenRecord): Promise<void>;
  /**
   * Marks a token revoked (idempotent) and reports `revoked`; returns the updated record, or
   * `undefined` when the hash is unknown.
   */
  revoke?(tokenHash: string): Promise<TokenRecord | undefined>;
  /**
   * Atomically stores `successor` and limits the old token's life to `graceUntil` (epoch ms): its
   * `expiresAt` becomes the earlier of its current expiry and `graceUntil`, and `rotatedTo` names the
   * successor. Refuses, storing nothing: an unknown hash (`NOT_FOUND`), a token that is not `active`
   * (`TOKEN_REVOKED`), a successor of another tenant (`BAD_REQUEST`), a successor hash that exists
   * (`CONFLICT`). Reports `created` for the successor and `rotated` for the old token. Returns the
   * updated old record.
   */
  rotate?(tokenHash: string, successor: TokenRecord, graceUntil: number): Promise<TokenRecord>;
  /** Every record (any status) of one tenant — compared exactly, case included — oldest `createdAt` first. */
  listByTenant?(tenantId: string): Promise<TokenRecord[]>;
  /**
   * Every tenant that was given a token, each once, in no particular order: how tools find tenants
   * that exist only as tokens (no config, no workspace yet). Includes tenants whose tokens are all
   * revoked or expired; may include a tenant whose records all expired away since.
   */
  tenants?(): AsyncIterable<string>;
  /**
   * Subscribes to changes from any writer — this instance, other processes, other nodes — delivered
   * in order, promptly (the kit waits up to 5 s); returns an unsubscribe function.
   */
  watch?(listener: (change: TokenChange) => void): () => void;
  /** Releases connections, watchers and timers. Idempotent; later calls on this instance throw `CLOSED`. */
  close?(): Promise<void>;
}
