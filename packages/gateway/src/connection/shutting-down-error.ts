import { MultiTenantError } from '@openclaw-mt/core';

/**
 * A node that is shutting down refuses new work with this: `CLOSED`, yet retryable (`UNAVAILABLE` on the
 * wire, as OpenClaw clients expect), because the same request succeeds on another node or after the restart.
 */
export function shuttingDownError(message: string): MultiTenantError {
  return new MultiTenantError('CLOSED', message, { retryAfterMs: 1_000, retryable: true });
}
