import { MultiTenantError, isMultiTenantError } from '@openclaw-mt/core';

/**
 * Turns a client failure (connection lost, timeout, error reply) into `BACKEND_UNAVAILABLE`, so
 * callers see one coded error whatever went wrong on the wire. Coded errors pass through unchanged.
 */
export function backendError(error: unknown, what: string): MultiTenantError {
  if (isMultiTenantError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new MultiTenantError('BACKEND_UNAVAILABLE', `Redis could not ${what} (${reason}); try again shortly.`, {
    cause: error,
    retryAfterMs: 1_000,
  });
}
