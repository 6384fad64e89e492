import type { ServerResponse } from 'node:http';
import { type AuthResult, type ErrorCode, MultiTenantError } from '@openclaw-mt/core';
import type { RegisteredConnection } from '../connection/connection-registry.js';
import { atDeadline } from '../connection/token-deadline.js';
import { CloseCodes } from '../protocol/close-codes.js';
import { sendHttpError } from './http-error-response.js';

/** What a request still waiting for its answer is told, by the reason its session would have closed. */
const CODE_BY_REASON: Record<string, ErrorCode> = {
  'token revoked': 'TOKEN_REVOKED',
  'access revoked': 'TOKEN_REVOKED',
  'account suspended': 'TENANT_SUSPENDED',
  'token expired': 'TOKEN_EXPIRED',
};

function endedError(code: number, reason: string): MultiTenantError {
  const named = CODE_BY_REASON[reason];
  if (named !== undefined) return new MultiTenantError(named, `The request ended: ${reason}.`, { details: { reason } });
  // Everything else (eviction by the operator, hand-over, shutdown) is worth retrying.
  return new MultiTenantError('CLOSED', `The request ended: ${reason}; retry shortly.`, {
    retryable: code === CloseCodes.restart,
    ...(code === CloseCodes.restart ? { retryAfterMs: 1_000 } : {}),
    details: { reason },
  });
}

/**
 * One tenant HTTP request in flight, registered beside the WebSocket sessions so that what ends a
 * session ends it too: a revoked token, a suspended account, a forced eviction, the end of a rotated
 * token's grace or the token's own expiry. A request still waiting gets the coded error; an answer
 * already streaming (server-sent events, for example) is cut, and the route's signal aborts.
 */
export class TenantHttpExchange implements RegisteredConnection {
  readonly tenantId: string;
  readonly tokenHash: string;
  private ended = false;
  private cancelExpiry: (() => void) | undefined;

  constructor(
    auth: AuthResult,
    private readonly response: ServerResponse,
    private readonly aborter: AbortController,
  ) {
    this.tenantId = auth.tenantId;
    this.tokenHash = auth.tokenHash;
    this.setExpiry(auth.expiresAt);
  }

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.finish();
    this.aborter.abort(endedError(code, reason));
    if (this.response.headersSent) this.response.destroy();
    else sendHttpError(this.response, endedError(code, reason), { connection: 'close' });
  }

  /** Ends the request when the token's life does (`undefined`: no deadline). */
  setExpiry(expiresAt: number | undefined): void {
    if (this.ended) return;
    this.cancelExpiry?.();
    this.cancelExpiry = expiresAt === undefined ? undefined : atDeadline(expiresAt, () => this.close(CloseCodes.policy, 'token expired'));
  }

  /** The request is over (answered, cut or abandoned): nothing ends it any more. */
  finish(): void {
    this.ended = true;
    this.cancelExpiry?.();
  }
}
