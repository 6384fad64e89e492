/**
 * @openclaw-mt/core — the TenantManager, its hooks, token and tenant-id rules, configuration, the
 * adapter contracts and the in-memory adapter. Adapters implement the contracts; hosts use the manager.
 */
export { ErrorCodes, type ErrorCode, isRetryableCode } from './errors/error-codes.js';
export {
  MultiTenantError,
  type MultiTenantErrorOptions,
  isMultiTenantError,
  toMultiTenantError,
} from './errors/multi-tenant-error.js';

export {
  TOKEN_PREFIX,
  TOKEN_ENTROPY_CHARS,
  MIN_TOKEN_ENTROPY_CHARS,
  TOKEN_CHECKSUM_CHARS,
  MAX_TOKEN_LENGTH,
  type ParsedToken,
  createToken,
  parseToken,
  isWellFormedToken,
  tokenFormatProblem,
} from './tokens/token-format.js';
export { type TokenHasher, type TokenHasherOptions, createTokenHasher, isTokenHash } from './tokens/token-hasher.js';
export { tokenHint, redactText, redact } from './tokens/redact.js';
export { tokenRecordProblem, assertTokenRecord, assertTokenHash, isTokenUsable } from './tokens/token-record.js';

export {
  MAX_TENANT_ID_LENGTH,
  tenantIdProblem,
  isValidTenantId,
  assertTenantId,
  tenantDirName,
  tenantIdFromDirName,
} from './tenants/tenant-id.js';

export {
  MAX_PATH_LENGTH,
  MAX_PATH_DEPTH,
  MAX_SEGMENT_LENGTH,
  workspacePathProblem,
  assertWorkspacePath,
  isValidWorkspacePath,
  isUnderPrefix,
} from './workspace/workspace-path.js';
export { WorkspaceLayout, WORKSPACE_FILES, WORKSPACE_DIRECTORIES } from './workspace/workspace-layout.js';
export {
  type WorkspaceTemplate,
  createWorkspaceTemplate,
  defaultWorkspaceTemplate,
  loadWorkspaceTemplate,
} from './workspace/workspace-template.js';
export { type TemplateManifest, type TemplateSyncIO, syncWorkspaceTemplate } from './workspace/template-sync.js';
export { DEFAULT_WORKSPACE_LIMITS, resolveWorkspaceLimits, assertWithinLimits, toBytes } from './workspace/workspace-limits.js';

export type * from './contracts/index.js';
export { type Listeners, createListeners, scopedListeners } from './contracts/listeners.js';
export { parseSequenceCursor } from './contracts/sequence-cursor.js';

export {
  MAX_TENANT_CONFIG_BYTES,
  MAX_TENANT_CONFIG_DEPTH,
  tenantConfigProblem,
  assertTenantConfig,
  configEntryProblem,
  assertConfigEntry,
  mergeTenantConfig,
} from './config/tenant-config.js';
export { multiTenantConfigSchema, configFileSchema, type MultiTenantConfig } from './config/operator-config.js';
export {
  DEFAULT_CONFIG_PATH,
  ConfigEnv,
  type OperatorConfig,
  type LoadedConfig,
  type LoadConfigOptions,
  parseConfig,
  loadConfig,
  resolveConfigPaths,
} from './config/load-config.js';
export { SINGLE_TENANT_ID, type ManagerSettings, managerSettingsFromConfig } from './config/manager-options.js';

export { type AuthResult, type AuthCacheOptions, type AuthStats, Authenticator } from './auth/authenticator.js';
export { type IssuedToken, type IssueOptions, type TokenServiceOptions, TokenService, createTokenService } from './auth/token-service.js';

export type { HookResult, EvictionReason, TenantHooks } from './lifecycle/tenant-hooks.js';
export type { Lease } from './lifecycle/lease.js';
export { type Pinnable, type Admission, ResidentSet } from './lifecycle/resident-set.js';
export {
  type WhenFull,
  type TenantManagerOptions,
  type TenantManagerStats,
  TenantManager,
} from './lifecycle/tenant-manager.js';

export { type LoggerOptions, createLogger } from './logging/logger.js';

export {
  type MemoryTokenStore,
  type MemoryTokenStoreOptions,
  type MemoryTokenState,
  createMemoryTokenStore,
  createMemoryTokenState,
} from './memory/memory-token-store.js';
export {
  type MemoryConfigSource,
  type MemoryConfigSourceOptions,
  type MemoryConfigState,
  createMemoryConfigSource,
  createMemoryConfigState,
} from './memory/memory-config-source.js';
export {
  type MemoryWorkspaceStore,
  type MemoryWorkspaceStoreOptions,
  type MemoryWorkspaceData,
  createMemoryWorkspaceStore,
} from './memory/memory-workspace-store.js';
export { type MemoryAdapter, type MemoryAdapterState, createMemoryAdapter, createMemoryAdapterState } from './memory/memory-adapter.js';

export * from './cloud/index.js';

export type { MonitorSample, AlertRule, AlertEvent, ActiveAlert } from './monitor/alert-rule.js';
export { type BuiltinRuleOptions, builtinRules } from './monitor/builtin-rules.js';
export { type MonitorOptions, Monitor } from './monitor/monitor.js';
export { assertAuditEntry, filterAuditEntries } from './audit/audit-entry.js';
export { type AuditSubject, audited, localActor } from './audit/audited.js';
export { createMemoryAuditLog } from './memory/memory-audit-log.js';

// Moving tenants: archives (export/import) and verified, resumable migrations between stores.
export * from './transfer/index.js';
