/**
 * @openclaw-mt/core — what a host embedding the TenantManager and an adapter author need: the manager
 * and its hooks, errors and their codes, configuration loading and validation, the adapter contract
 * types, `defineAdapter`, the logger and the in-memory adapter. Everything else lives at a subpath by
 * concern: `/contracts` (the contracts and the rules adapters enforce), `/testing` (the conformance kit
 * and in-memory stores), `/helpers` (atomic writes, file locks, keyed mutex, backoff), `/tokens`,
 * `/cloud`, `/transfer`, `/monitor` and `/audit`.
 */
export { ErrorCodes, type ErrorCode, isRetryableCode } from './errors/error-codes.js';
export {
  MultiTenantError,
  type MultiTenantErrorOptions,
  isMultiTenantError,
  toMultiTenantError,
} from './errors/multi-tenant-error.js';

export type { HookResult, EvictionReason, TenantHooks } from './lifecycle/tenant-hooks.js';
export type { Lease } from './lifecycle/lease.js';
export type { AuthResult, AuthCacheOptions, AuthStats } from './auth/authenticator.js';
export {
  type WhenFull,
  type TenantManagerOptions,
  type TenantManagerStats,
  TenantManager,
} from './lifecycle/tenant-manager.js';

export {
  DEFAULT_CONFIG_PATH,
  ConfigEnv,
  type OperatorConfig,
  type LoadedConfig,
  type LoadConfigOptions,
  type ConfigSections,
  parseConfig,
  loadConfig,
} from './config/load-config.js';
export { BUILT_IN_ADAPTERS, type BuiltInAdapterName, type MultiTenantConfig } from './config/operator-config.js';
export { SINGLE_TENANT_ID, type ManagerSettings, managerSettingsFromConfig, effectiveTokenFormats } from './config/manager-options.js';
export { configInvalid, configIssues, issuesOf, type ConfigIssue, type ConfigSectionCheck } from './config/config-issues.js';

export type * from './contracts/types.js';
export { defineAdapter } from './adapters/define-adapter.js';
export { loadAdapterModule } from './adapters/load-adapter-module.js';

export { type LoggerOptions, createLogger } from './logging/logger.js';

export { type MemoryAdapter, createMemoryAdapter } from './memory/memory-adapter.js';
export { memoryAdapterFactory } from './memory/memory-adapter-factory.js';
