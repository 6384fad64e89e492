/**
 * @openclaw-mt/model-gateway — the one way OpenClaw cells reach LLM providers: per-cell credentials instead of
 * provider keys, routing by provider id, streaming pass-through, metering and limits per tenant.
 */
export {
  type ModelGateway,
  type ModelGatewayOptions,
  type ModelGatewayAddress,
  type ModelGatewayLogger,
  type ModelGatewayStats,
  type TenantSocket,
  type CellProviderConfig,
  type UsageRecord,
  createModelGateway,
} from './model-gateway.js';
export { PROVIDER_APIS, type ProviderApi, type KeyPlacement } from './providers/provider-apis.js';
export type { ProviderConfig } from './providers/provider-registry.js';
export type { ResolveProviderKey, TenantProviderKey } from './proxy/exchange.js';
export { CREDENTIAL_PREFIX, type IssuedCredential, type ReservedCredential } from './credentials/credential-store.js';
export type { TcpListenOptions, SocketListenOptions } from './http/listeners.js';
export type { ModelLimits, LimitsFor } from './limits/tenant-limits.js';
export { ERROR_CLASSES, type ErrorClass, type ProviderUsage, type TenantUsage } from './metering/usage-ledger.js';
export { MODEL_METRIC_NAMES, type ModelMetricsOptions } from './metering/model-metrics.js';
export type { TokenUsage } from './metering/usage-shapes.js';
