import type { GatewayRequestError } from '@openclaw-mt/gateway';
import { ExitCodes } from './exit-codes.js';
import { waitText } from './wait-text.js';

/**
 * What a person reads when the gateway refused or could not be reached: the code, the gateway's message
 * (or a plainer one for a lockout) and how long to wait when the gateway said. Never the token.
 */
export function gatewayFailureText(error: GatewayRequestError): string {
  const wait = error.retryAfterMs === undefined ? undefined : waitText(error.retryAfterMs);
  if (error.code === 'RATE_LIMITED' && error.shape.details?.reason === 'auth-lockout') {
    return `${error.code}: too many failed authentications with this token from this address: locked out${wait === undefined ? '' : `; try again in ${wait}`}.`;
  }
  const message = error.message.replace(/\s*try again[^.;]*\.?$/i, '').replace(/[.;:]\s*$/, '');
  return `${error.code}: ${message}${wait === undefined ? '.' : `; try again in ${wait}.`}`;
}

/** The documented exit code: 4 when the gateway is unreachable, unavailable, at capacity or rate limited; else 2. */
export function gatewayFailureExitCode(error: GatewayRequestError): number {
  return error.shape.retryable === true ||
    error.code === 'CLOSED' ||
    error.code === 'TIMEOUT' ||
    error.status === 429 ||
    error.status === 503
    ? ExitCodes.unavailable
    : ExitCodes.invalid;
}
