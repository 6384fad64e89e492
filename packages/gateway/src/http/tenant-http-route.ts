import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lease } from '@openclaw-mt/core';
import type { TenantQuotas } from '../limits/tenant-quotas.js';

/** An authenticated HTTP request, bound to exactly one tenant. */
export interface TenantHttpRequest {
  tenantId: string;
  /** Pins the tenant (active, never evicted or idle-stopped) until the route's `serve` settles. */
  lease: Lease;
  quotas: TenantQuotas;
  /**
   * Aborted when the client goes away, the gateway shuts down, or what would close the tenant's sessions
   * ends the request: its token revoked or expired, the account suspended, the tenant evicted.
   */
  signal: AbortSignal;
}

/**
 * An HTTP surface on the gateway's port that belongs to a tenant. The gateway authenticates the
 * request's gateway token exactly as it does a WebSocket login (the same manager path and brute-force
 * limiter), asks the route whether this tenant may use it, activates and pins the tenant, applies its
 * requests-per-minute quota, and only then hands it to `serve`. A failure before `serve` is answered
 * with a JSON coded error and touches no tenant.
 */
export interface TenantHttpRoute {
  /** Whether the request is this route's (method and path only; no I/O, no answer). */
  matches(request: IncomingMessage): boolean;
  /**
   * The gateway token the request presents (default: `Authorization: Bearer`). Throw a coded error to
   * refuse the request outright (a token in the URL, for example).
   */
  credentialOf?(request: IncomingMessage): string | undefined;
  /** Throws a coded error when the tenant may not use this route; called before the tenant is activated. */
  authorize?(tenantId: string, request: IncomingMessage): void;
  /** Answers the request. The tenant stays pinned until the promise settles. */
  serve(request: IncomingMessage, response: ServerResponse, tenant: TenantHttpRequest): Promise<void>;
}
