import type { TenantConfig } from '../contracts/config-source.js';
import type { LeaseLossCause } from '../contracts/coordinator.js';
import type { WorkspaceHandle } from '../contracts/workspace-store.js';
import type { ErrorCode } from '../errors/error-codes.js';
import type { MultiTenantError } from '../errors/multi-tenant-error.js';

/** What a hook may return; the manager awaits it. */
export type HookResult = void | Promise<void>;

/** Why a tenant left memory. */
export type EvictionReason = 'idle' | 'lru' | 'manual' | 'revoked' | 'suspended' | 'lease-lost' | 'shutdown';

/**
 * The manager's lifecycle hooks, as a typed interface so adapters and hosts can add their own with
 * `declare module '@openclaw-mt/core' { interface TenantHooks { … } }`.
 *
 * Every call is awaited. A throwing `tenant:activate` or `tenant:activated` handler aborts the
 * activation (the tenant is rolled back and the acquire fails); failures of the other hooks are logged
 * and contained.
 */
export interface TenantHooks {
  /** A tenant is about to be activated (its config and workspace are not loaded yet). */
  'tenant:activate': (event: { tenantId: string }) => HookResult;
  /** A tenant is active: its workspace is open and its merged config validated. Runtimes start here. */
  'tenant:activated': (event: { tenantId: string; workspace: WorkspaceHandle; config: TenantConfig; configVersion: number }) => HookResult;
  /**
   * A tenant is about to leave memory; its workspace is still open. Runtimes stop here. With reason
   * `lease-lost`, `cause` says whether another node took over or the coordinator's store was unreachable.
   */
  'tenant:evict': (event: { tenantId: string; reason: EvictionReason; workspace: WorkspaceHandle; cause?: LeaseLossCause }) => HookResult;
  /** A tenant left memory and its workspace was closed (written back); its coordinator claim is released right after. */
  'tenant:evicted': (event: { tenantId: string; reason: EvictionReason }) => HookResult;
  /** An active tenant's config changed; `config` is the new merged, validated config. */
  'tenant:config-updated': (event: { tenantId: string; config: TenantConfig; version: number; previousVersion: number }) => HookResult;
  /** A tenant was suspended or deleted; the gateway closes its connections. */
  'tenant:suspended': (event: { tenantId: string; status: 'suspended' | 'deleted' }) => HookResult;
  /** A token was revoked (here or, through a store's watch, elsewhere); the gateway closes sockets using it. */
  'token:revoked': (event: { tokenHash: string; tenantId: string }) => HookResult;
  /** An authentication failed. Carries a redacted hint, never the token. */
  'auth:failed': (event: { code: ErrorCode; tokenHint: string }) => HookResult;
  /** A config sync attempt failed (fired once per outage). */
  'sync:failed': (event: { error: MultiTenantError; attempt: number }) => HookResult;
  /** Config sync works again after an outage. */
  'sync:recovered': (event: { downtimeMs: number }) => HookResult;
  /** Config sync raised a coded alert that does not stop it (`SYNC_PAGE_TOO_LARGE`, `SYNC_SNAPSHOT_EMPTY`). */
  'sync:alert': (event: { code: string; message: string; at: number }) => HookResult;
  /** A complete sync run no longer met the alert's condition. */
  'sync:alert-resolved': (event: { code: string }) => HookResult;
  /** Token verification against the Cloud Backend started failing (once per outage). */
  'backend:failed': (event: { error: MultiTenantError }) => HookResult;
  /** Token verification works again. */
  'backend:recovered': (event: { downtimeMs: number }) => HookResult;
  /** The manager finished closing. */
  close: () => HookResult;
}
