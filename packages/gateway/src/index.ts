/**
 * @openclaw-mt/gateway — the multi-tenant front door: a WebSocket server speaking the OpenClaw
 * Gateway protocol, binding each connection to one tenant, with pluggable tenant runtimes.
 */
export { createGateway, DEFAULT_PORT, type Gateway, type GatewayOptions } from './gateway.js';
export { CloseCodes } from './protocol/close-codes.js';
export {
  MIN_PROTOCOL,
  MAX_PROTOCOL,
  okFrame,
  errorFrame,
  eventFrame,
  type Frame,
  type RequestFrame,
  type ResponseFrame,
  type EventFrame,
  type ErrorShape,
} from './protocol/frames.js';
export { toErrorShape } from './protocol/error-shape.js';
export { parseRequestFrame } from './protocol/parse-frame.js';
export { type ConnectParams, parseConnectParams, negotiateProtocol } from './protocol/connect-params.js';
export { AuthRateLimiter, type AuthRateLimitOptions } from './limits/auth-rate-limiter.js';
export { RequestRate } from './limits/request-rate.js';
export { DEFAULT_QUOTAS, resolveQuotas, type TenantQuotas } from './limits/tenant-quotas.js';
export { createMethodPolicy, type MethodPolicyOptions } from './policy/method-policy.js';
export type { TenantRuntime, RuntimeSession, SessionContext, RuntimeResponse, ActiveTenant } from './runtime/tenant-runtime.js';
export { createWorkspaceRuntime, WORKSPACE_RUNTIME_METHODS, type WorkspaceRuntimeOptions } from './runtime/workspace-runtime.js';
export { echoAgent, type AgentFunction, type AgentTurn, type TranscriptMessage } from './runtime/agent.js';
export {
  connectGateway,
  GatewayRequestError,
  type ConnectGatewayOptions,
  type GatewayConnection,
} from './client/gateway-client.js';
export {
  gatewaySettingsSchema,
  parseGatewaySettings,
  gatewayOptionsFromSettings,
  type GatewaySettings,
} from './config/gateway-settings.js';
export type { GatewayObserver } from './connection/gateway-observer.js';
export { createGatewayMetrics, type GatewayMetrics, type GatewayMetricsSources } from './admin/gateway-metrics.js';
export { createAdminServer, DEFAULT_ADMIN_PORT, type AdminServer, type AdminServerOptions } from './admin/admin-server.js';
export { adminSettingsSchema, parseAdminSettings, ADMIN_TOKEN_ENV, type AdminSettings } from './config/admin-settings.js';

// The `openclaw` runtime: one real OpenClaw gateway process per active tenant.
export {
  createOpenClawRuntime,
  OPENCLAW_OPERATOR_SCOPES,
  type OpenClawRuntime,
  type OpenClawRuntimeOptions,
} from './runtime/openclaw/openclaw-runtime.js';
export type { CellInfo, CellState, RestartPolicy } from './runtime/openclaw/cell.js';
export { OPENCLAW_DENIED_METHODS } from './runtime/openclaw/method-policy.js';
export { DEFAULT_LOCKED_CONFIG_PATHS } from './runtime/openclaw/cell-config.js';
export { checkConfigWrite } from './runtime/openclaw/config-guard.js';
export { parseJson5, Json5Error } from './runtime/openclaw/json5.js';
export { capacityForMemoryBudget, DEFAULT_CELL_MEMORY_BYTES } from './runtime/openclaw/capacity.js';
export type { PortRange } from './runtime/openclaw/port-allocator.js';
export {
  openClawRuntimeSettingsSchema,
  parseOpenClawRuntimeSettings,
  openClawRuntimeOptionsFromSettings,
  type OpenClawRuntimeSettings,
} from './runtime/openclaw/runtime-settings.js';
export { tenantUserName, deleteTenantUser, osUsersAvailable, type TenantUser } from './runtime/openclaw/tenant-user.js';
export {
  installOpenClawRuntime,
  resolveOpenClawInstall,
  defaultRuntimeDir,
  nodePackageName,
  DEFAULT_OPENCLAW_VERSION,
  DEFAULT_NODE_VERSION,
  MIN_NODE_VERSION,
  RUNTIME_DIR_ENV,
  type OpenClawInstall,
  type InstallRuntimeOptions,
  type InstallRuntimeResult,
} from './runtime/openclaw/runtime-install.js';
