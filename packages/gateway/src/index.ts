/**
 * @openclaw-mt/gateway — the multi-tenant front door: a WebSocket server speaking the OpenClaw Gateway
 * protocol, binding each connection to one tenant, with pluggable tenant runtimes. The root holds
 * `createGateway` and its options, the runtime contract and the built-in workspace runtime, the client
 * (`connectGateway`) and the wire errors; `/protocol`, `/config` and `/admin` hold the rest.
 */
export { createGateway, DEFAULT_PORT, type Gateway, type GatewayOptions } from './gateway.js';
export type { GatewayObserver } from './connection/gateway-observer.js';
export type { HttpRoute, HttpRouteContext } from './http/http-route.js';
export type { TenantHttpRoute, TenantHttpRequest } from './http/tenant-http-route.js';
export { httpStatusOf, sendHttpError } from './http/http-error-response.js';
export { endToEndHeaders, hopByHopHeaders } from './http/hop-by-hop.js';
export { createCloudPushRoute, DEFAULT_PUSH_PATH, type CloudPushRouteOptions } from './http/cloud-push-route.js';
export { DEFAULT_QUOTAS, type TenantQuotas } from './limits/tenant-quotas.js';
export type { AuthRateLimitOptions } from './limits/auth-rate-limiter.js';
export type { PreAuthLimitOptions } from './limits/pre-auth-budget.js';
export type { TrustProxy } from './http/client-address.js';
export { createMethodPolicy, type MethodPolicyOptions } from './policy/method-policy.js';
export { DEFAULT_FLEET_PORT, type FleetOptions } from './fleet/fleet-options.js';

export type {
  TenantRuntime,
  RuntimeSession,
  SessionContext,
  RuntimeResponse,
  ActiveTenant,
  StandbyUsage,
} from './runtime/tenant-runtime.js';
export { createWorkspaceRuntime, WORKSPACE_RUNTIME_METHODS, type WorkspaceRuntimeOptions } from './runtime/workspace-runtime.js';
export { echoAgent, type AgentFunction, type AgentTurn, type TranscriptMessage } from './runtime/agent.js';

export {
  connectGateway,
  GatewayRequestError,
  type ConnectGatewayOptions,
  type GatewayConnection,
} from './client/gateway-client.js';
export { sendChatMessage, type ChatMessage, type ChatTurn } from './client/chat-turn.js';

export type { ErrorShape } from './protocol/frames.js';
export { toErrorShape } from './protocol/error-shape.js';
export { CloseCodes } from './protocol/close-codes.js';
