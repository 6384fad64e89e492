import type { TenantClaim } from './coordinator.js';

/** One file in a workspace listing. */
export interface WorkspaceFileInfo {
  /** Relative name, `/`-separated. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Epoch milliseconds of the last write. */
  modifiedAt: number;
}

/** Size limits every adapter enforces. */
export interface WorkspaceLimits {
  /** Largest single file, in bytes. */
  readonly maxFileBytes: number;
  /** Largest total of all files of one tenant, in bytes. */
  readonly maxWorkspaceBytes: number;
}

/** What a {@link WorkspaceStore} can do beyond the basics. */
export interface WorkspaceStoreCapabilities {
  /** Handles expose `directory`, a plain local directory a child process (OpenClaw) can use. */
  readonly localDirectory: boolean;
  /** `open` honours a claim and refuses write-back once the claim's fence is stale. */
  readonly fencing: boolean;
  /** `tenants` is implemented. */
  readonly list: boolean;
}

/** Options for {@link WorkspaceStore.open}. */
export interface WorkspaceOpenOptions {
  /** The coordinator claim under which the tenant is active; fencing stores check it on write-back. */
  claim?: TenantClaim;
}

/**
 * One tenant's open workspace. Every name is a relative name accepted by `assertWorkspacePath`
 * (bad names throw `PATH_INVALID` before any I/O, escapes found on disk `PATH_ESCAPE`); the handle
 * can never reach another tenant. Names form a tree as on a filesystem: a name cannot be both a file
 * and a directory (`a` and `a/b`) — writing one over the other is `PATH_INVALID` and changes nothing
 * (`assertNoFileFolderClash`) — so a workspace can move between adapters. Reads return plain
 * `Uint8Array`s (not `Buffer`s). Files an adapter keeps for itself (temp files, the template
 * manifest) are never listed and never count towards `usage`.
 */
export interface WorkspaceHandle {
  readonly tenantId: string;
  /** The tenant's root on local disk, when the store has `localDirectory`. */
  readonly directory?: string;
  /** A file's bytes; throws `NOT_FOUND` when absent. */
  read(name: string): Promise<Uint8Array>;
  /** Replaces a file atomically (readers see the old or the new content, never a mix). */
  write(name: string, data: Uint8Array | string): Promise<void>;
  /** Appends to a file, creating it if needed; subject to the same limits as `write`. */
  append(name: string, data: Uint8Array | string): Promise<void>;
  /**
   * Files under `prefix` (an acceptable name, no trailing `/`; everything when omitted or `''`), sorted
   * by name. A file named exactly `prefix` is included (see `isUnderPrefix`). The prefix is literal and
   * matches whole names (`mem` matches neither `memory/x` nor `mem0`): in SQL, compare ranges rather than
   * `LIKE`, where `_` and `%` are wildcards.
   */
  list(prefix?: string): Promise<WorkspaceFileInfo[]>;
  /** Deletes a file; returns whether it existed. */
  remove(name: string): Promise<boolean>;
  /** Total bytes used by the tenant's files. */
  usage(): Promise<number>;
  /** Persists pending changes now (stores that cache locally write back here). */
  flush(): Promise<void>;
  /** Persists and releases the handle. Idempotent. Later calls on the handle throw `CLOSED`. */
  close(): Promise<void>;
}

/**
 * Tenant workspace storage. A workspace is created on first `open` from the store's template; files
 * the tenant never changed follow later template updates (see `syncWorkspaceTemplate`, which needs a
 * per-tenant lock around it when several writers may open the same workspace at once). Template files
 * count towards the limits. Invalid tenant ids are `TENANT_ID_INVALID`; writes over the limits are
 * `FILE_TOO_LARGE` or `QUOTA_EXCEEDED` and change nothing; outages are `BACKEND_UNAVAILABLE`. Stores
 * without `fencing` ignore `options.claim`.
 */
export interface WorkspaceStore {
  readonly name: string;
  readonly capabilities: WorkspaceStoreCapabilities;
  readonly limits: WorkspaceLimits;
  /** Opens (creating on first use) a tenant's workspace. */
  open(tenantId: string, options?: WorkspaceOpenOptions): Promise<WorkspaceHandle>;
  /** Whether the tenant has a workspace. */
  exists(tenantId: string): Promise<boolean>;
  /**
   * Deletes a tenant's workspace and everything in it; returns whether it existed. Handles opened
   * before fail afterwards (`NOT_FOUND` or `CLOSED`) rather than recreating it.
   */
  destroy(tenantId: string): Promise<boolean>;
  /** Every tenant id with a workspace, in no particular order. */
  tenants?(): AsyncIterable<string>;
  /** Releases the store. Idempotent; a later `open`, `exists` or `destroy` throws `CLOSED`. */
  close?(): Promise<void>;
}
