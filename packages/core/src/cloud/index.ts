/**
 * The Cloud Backend integration: the wire contract (v1) as zod schemas, an ofetch client, a token
 * store that verifies against the backend with an outage grace cache, a config source served from a
 * last-known-good copy kept current by {@link ConfigSyncService}, and a contract checker.
 */
export {
  CLOUD_CONTRACT_VERSION,
  CloudPaths,
  MAX_CONFIGS_PAGE_LIMIT,
  MAX_CURSOR_LENGTH,
  verifyRequestSchema,
  verifyResponseSchema,
  configUserSchema,
  configsPageSchema,
  issueTokenRequestSchema,
  issuedTokenSchema,
  errorBodySchema,
  cloudContractJsonSchema,
  type VerifyResponse,
  type ConfigUser,
  type ConfigsPage,
  type IssuedTokenBody,
} from './wire-contract.js';
export { type CloudClock, systemClock } from './clock.js';
export { type FetchFunction, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES } from './http-request.js';
export {
  type CloudClient,
  type CloudClientOptions,
  type VerifyOutcome,
  type ConfigsQuery,
  type ConfigsOutcome,
  createCloudClient,
} from './cloud-client.js';
export {
  type CloudTokenStore,
  type CloudTokenStoreOptions,
  type CloudTokenStoreStats,
  type VerifiedToken,
  createCloudTokenStore,
} from './cloud-token-store.js';
export { type CloudConfigSourceOptions, createCloudConfigSource } from './cloud-config-source.js';
export { type SyncCursorState, type SyncCursorStore, createMemoryCursorStore, createFileCursorStore } from './cursor-store.js';
export { type BackoffOptions, createBackoff } from './backoff.js';
export {
  type ConfigSyncOptions,
  type SyncResult,
  type ConfigSyncHooks,
  type ConfigSyncStatus,
  type SyncTarget,
  ConfigSyncService,
} from './config-sync.js';
export { type CloudBackendOptions, type CloudBackend, createCloudBackend } from './cloud-backend.js';
export {
  type CheckStatus,
  type CheckPoint,
  type CheckReport,
  type CheckCloudBackendOptions,
  checkCloudBackend,
} from './check-backend.js';
