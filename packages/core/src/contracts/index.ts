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
export type { TenantClaim, ClaimOptions, Coordinator } from './coordinator.js';
export type { AuditEntry, AuditQuery, AuditLog } from './audit-log.js';
