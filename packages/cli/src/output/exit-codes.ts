import { isMultiTenantError } from '@openclaw-mt/core';

/** Exit codes of `openclaw-mt`, documented in the CLI README. */
export const ExitCodes = {
  ok: 0,
  /** Unexpected failure or bad usage. */
  failure: 1,
  /** Invalid input or configuration. */
  invalid: 2,
  /** The named tenant, token or file does not exist. */
  notFound: 3,
  /** A service (gateway, store, Cloud Backend) is unavailable or at capacity; retrying may help. */
  unavailable: 4,
  /** A check ran and found problems (`doctor`, `backend check`). */
  checkFailed: 5,
} as const;

/** The exit code for an error. */
export function exitCodeFor(error: unknown): number {
  if (!isMultiTenantError(error)) return ExitCodes.failure;
  if (error.retryable || error.code === 'CLOSED') return ExitCodes.unavailable;
  if (['NOT_FOUND', 'TENANT_UNKNOWN', 'TOKEN_UNKNOWN'].includes(error.code)) return ExitCodes.notFound;
  if (error.code === 'INTERNAL') return ExitCodes.failure;
  return ExitCodes.invalid;
}
