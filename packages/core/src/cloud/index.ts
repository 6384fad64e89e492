/**
 * The Cloud Backend integration: the wire contract (v1.1) as zod schemas, dialects (v1, and the original
 * fork's backend as it is), an ofetch client, a token store that verifies against the backend with an outage
 * grace that survives restarts, a config source served from a last-known-good copy kept current by
 * {@link ConfigSyncService}, signed pushes, tenant secrets, and a contract checker.
 */
export {
  CLOUD_CONTRACT_VERSION,
  CloudPaths,
  MAX_CONFIGS_PAGE_LIMIT,
  MAX_CURSOR_LENGTH,
  verifyRequestSchema,
  verifyResponseSchema,
  configUserSchema,
  tokenEventSchema,
  configsPageSchema,
  pushEventSchema,
  issueTokenRequestSchema,
  issuedTokenSchema,
  errorBodySchema,
  cloudContractJsonSchema,
  type VerifyResponse,
  type ConfigUser,
  type ConfigsPage,
  type TokenEvent,
  type PushEvent,
  type IssuedTokenBody,
} from './wire-contract.js';
export { type CloudClock, systemClock } from './clock.js';
export { type FetchFunction, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES } from './http-request.js';
export type {
  CloudDialect,
  CloudDialectName,
  DialectRequest,
  DialectContext,
  FeedPage,
  VerifyOutcome,
  ConfigsQuery,
  ConfigsOutcome,
} from './dialects/cloud-dialect.js';
export { CLOUD_DIALECTS, resolveCloudDialect } from './dialects/resolve-dialect.js';
export { createV1Dialect } from './dialects/v1-dialect.js';
export { createFbaDialect, FBA_DEFAULT_PATH_PREFIX, fbaTimestamp } from './dialects/fba-dialect.js';
export { type CloudClient, type CloudClientOptions, createCloudClient } from './cloud-client.js';
export {
  type CloudTokenStore,
  type CloudTokenStoreOptions,
  type CloudTokenStoreStats,
  type VerifiedToken,
  type VerifiedAnswer,
  type VerifyHealthEvent,
  createCloudTokenStore,
} from './cloud-token-store.js';
export {
  type VerifiedTokenRecord,
  type VerifiedTokenStore,
  createMemoryVerifiedTokenStore,
  createFileVerifiedTokenStore,
} from './verified-tokens.js';
export { createMemoryTenantSecretStore, createFileTenantSecretStore } from './tenant-secrets.js';
export { type CloudConfigSource, type CloudConfigSourceOptions, createCloudConfigSource } from './cloud-config-source.js';
export { type SyncCursorState, type SyncCursorStore, createMemoryCursorStore, createFileCursorStore } from './cursor-store.js';
export {
  type ConfigSyncOptions,
  type SyncResult,
  type SyncAlert,
  type ConfigSyncHooks,
  type ConfigSyncStatus,
  type SyncTarget,
  type PushedEntries,
  ConfigSyncService,
} from './config-sync.js';
export {
  PUSH_SIGNATURE_HEADER,
  DEFAULT_PUSH_TOLERANCE_MS,
  type PushSignatureProblem,
  signPush,
  verifyPushSignature,
} from './push/push-signature.js';
export {
  MAX_PUSH_BYTES,
  type PushReceiver,
  type PushReceiverOptions,
  type PushRequest,
  type PushAnswer,
  type PushOutcome,
  type PushReceiverStats,
  createPushReceiver,
} from './push/push-receiver.js';
export { type CloudBackendOptions, type CloudBackend, type CloudAttachTarget, createCloudBackend } from './cloud-backend.js';
export { type BackendSetupFinding, backendSetupFindings, isLoopbackUrl } from './backend-warnings.js';
export {
  type CheckStatus,
  type CheckPoint,
  type CheckReport,
  type CheckCloudBackendOptions,
  checkCloudBackend,
} from './check-backend.js';
