import { isMultiTenantError, MultiTenantError } from '@openclaw-mt/core';

/** The errno code of a Node.js system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Wraps an unexpected I/O failure as `BACKEND_UNAVAILABLE` (the store could not give a definite
 * answer), keeping coded errors as they are. `what` names the operation, never a token or an
 * absolute path; the original error (with its path) stays in `cause` for operators' logs.
 */
export function storageError(error: unknown, what: string): MultiTenantError {
  if (isMultiTenantError(error)) return error;
  const code = errnoCode(error) ?? 'unknown error';
  return new MultiTenantError('BACKEND_UNAVAILABLE', `${what} failed on local disk (${code}).`, { cause: error, details: { errno: code } });
}
