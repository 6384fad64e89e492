import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsolaInstance } from 'consola';
import { MultiTenantError, isMultiTenantError, type Lease, type TenantManager } from '@openclaw-mt/core';
import { shuttingDownError } from '../connection/shutting-down-error.js';
import type { ConnectionRegistry } from '../connection/connection-registry.js';
import type { AuthRateLimiter } from '../limits/auth-rate-limiter.js';
import { authenticateCounted } from '../limits/counted-authentication.js';
import type { RequestRate } from '../limits/request-rate.js';
import type { TenantQuotas } from '../limits/tenant-quotas.js';
import { sendHttpError } from './http-error-response.js';
import { TenantHttpExchange } from './tenant-http-exchange.js';
import type { TenantHttpRoute } from './tenant-http-route.js';

/** What the door shares with the rest of the gateway. */
export interface TenantHttpServices {
  manager: TenantManager;
  authLimiter: AuthRateLimiter;
  requestRate: RequestRate;
  quotasFor(lease: Lease): TenantQuotas;
  /** Requests in flight, where revocations, suspensions and evictions find them. */
  exchanges: ConnectionRegistry<TenantHttpExchange>;
  /** Moves on every revocation and suspension: a request whose token was checked across one checks again. */
  revocationEpoch(): number;
  /** The client's address, as the WebSocket path resolves it (trusted proxies included). */
  clientAddress(request: IncomingMessage): string;
  closing(): boolean;
  /**
   * In a fleet: carries the request to the node that owns the tenant and streams its answer back;
   * `false` when that node is not in the directory.
   */
  forwardToOwner?(owner: string, request: IncomingMessage, response: ServerResponse, clientAddress: string): Promise<boolean>;
  log: ConsolaInstance;
}

/** Where a request came from: the client's address, and whether another node already carried it here. */
interface RequestOrigin {
  address: string;
  forwarded: boolean;
}

function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** A tenant served by another node of the fleet that this node cannot reach now: the client retries. */
function elsewhereError(): MultiTenantError {
  return new MultiTenantError('BACKEND_UNAVAILABLE', 'Another gateway node is serving this account right now; retry shortly.', {
    retryAfterMs: 2_000,
    details: { reason: 'tenant-on-other-node' },
  });
}

async function serveTenantRequest(
  route: TenantHttpRoute,
  request: IncomingMessage,
  response: ServerResponse,
  services: TenantHttpServices,
  origin: RequestOrigin,
): Promise<void> {
  const { manager, requestRate } = services;
  if (services.closing()) throw shuttingDownError('The gateway is shutting down; retry shortly.');
  const token = route.credentialOf === undefined ? bearerOf(request) : route.credentialOf(request);
  const epoch = services.revocationEpoch();
  const auth = await authenticateCounted(
    services.authLimiter,
    manager,
    origin.address,
    token,
    'A gateway token is required (Authorization: Bearer <token>).',
  );
  route.authorize?.(auth.tenantId, request);
  const aborter = new AbortController();
  const abort = () => aborter.abort();
  // `close` on the response also fires after a normal finish; by then nothing listens to the signal.
  response.once('close', abort);
  const exchange = new TenantHttpExchange(auth, response, aborter);
  services.exchanges.add(exchange);
  try {
    // A revocation or suspension that landed while the token was checked would have missed this request.
    if (services.revocationEpoch() !== epoch) await manager.authenticate(token!);
    if (aborter.signal.aborted) return;
    let lease: Lease;
    try {
      lease = await manager.acquire(auth.tenantId);
    } catch (error) {
      if (!isMultiTenantError(error, 'LEASE_HELD')) throw error;
      // Another node serves this tenant: carry the request there, unless it already came from there.
      const owner = error.details.owner;
      if (typeof owner === 'string' && !origin.forwarded && services.forwardToOwner !== undefined) {
        if (await services.forwardToOwner(owner, request, response, origin.address)) return;
      }
      throw elsewhereError();
    }
    try {
      if (aborter.signal.aborted) return;
      const quotas = services.quotasFor(lease);
      const waitMs = requestRate.take(auth.tenantId, quotas.requestsPerMinute);
      if (waitMs > 0) {
        throw new MultiTenantError('RATE_LIMITED', `At most ${quotas.requestsPerMinute} requests per minute.`, {
          retryAfterMs: waitMs,
          details: { quota: 'requestsPerMinute' },
        });
      }
      await route.serve(request, response, { tenantId: auth.tenantId, lease, quotas, signal: aborter.signal });
    } finally {
      lease.release();
    }
  } finally {
    exchange.finish();
    services.exchanges.delete(exchange);
    response.off('close', abort);
  }
}

/**
 * The gateway's door for tenant HTTP routes: picks the route a request is for, and serves it as one
 * authenticated, pinned, rate-limited request (see {@link TenantHttpRoute}). Failures become JSON
 * coded errors; a response that already started is cut instead.
 */
export function tenantHttpDoor(
  routes: readonly TenantHttpRoute[],
  services: TenantHttpServices,
): (request: IncomingMessage, response: ServerResponse, forwardedFrom?: string) => boolean {
  return (request, response, forwardedFrom) => {
    const route = routes.find((candidate) => candidate.matches(request));
    if (route === undefined) return false;
    const origin =
      forwardedFrom === undefined
        ? { address: services.clientAddress(request), forwarded: false }
        : { address: forwardedFrom, forwarded: true };
    void serveTenantRequest(route, request, response, services, origin).catch((error: unknown) => {
      if (!isMultiTenantError(error)) services.log.warn(`${request.method} ${(request.url ?? '').split('?')[0]} failed:`, error);
      if (response.headersSent) response.destroy();
      else sendHttpError(response, error, { connection: 'close' });
    });
    return true;
  };
}
