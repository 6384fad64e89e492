/** The adapter contracts, as types only (re-exported by the root and by `@openclaw-mt/core/contracts`). */
export type { TokenStatus, TokenRecord, TokenChange, TokenStoreCapabilities, TokenStore } from './token-store.js';
export type {
  JsonValue,
  TenantConfig,
  TenantStatus,
  TenantConfigEntry,
  ConfigChangesPage,
  TenantConfigUpdate,
  ConfigSourceCapabilities,
  ConfigSource,
} from './config-source.js';
export type {
  WorkspaceFileInfo,
  WorkspaceLimits,
  WorkspaceStoreCapabilities,
  WorkspaceOpenOptions,
  WorkspaceHandle,
  WorkspaceStore,
} from './workspace-store.js';
export type { TenantClaim, ClaimOptions, Coordinator, FleetNode, LeaseLossCause } from './coordinator.js';
export type { AuditEntry, AuditQuery, AuditLog } from './audit-log.js';
export type { ProviderCredential, TenantSecretStore } from './tenant-secret-store.js';
export type { AdapterContext, AdapterCheck, OpenedAdapter, AdapterFactory } from './adapter-factory.js';
