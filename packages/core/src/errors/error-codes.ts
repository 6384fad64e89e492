/**
 * Every failure in openclaw-mt carries one of these stable codes. Codes are part of the public API:
 * clients branch on them, so they never change meaning.
 */
export const ErrorCodes = {
  /** The token is not a well-formed `gt_` token (prefix, charset, length or checksum). */
  TOKEN_MALFORMED: 'TOKEN_MALFORMED',
  /** The token is well formed but no store knows it. */
  TOKEN_UNKNOWN: 'TOKEN_UNKNOWN',
  /** The token was revoked. */
  TOKEN_REVOKED: 'TOKEN_REVOKED',
  /** The token is past its expiry (or its rotation grace period). */
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  /** The tenant exists but is suspended; it may not authenticate or activate. */
  TENANT_SUSPENDED: 'TENANT_SUSPENDED',
  /** The tenant does not exist (or was deleted). */
  TENANT_UNKNOWN: 'TENANT_UNKNOWN',
  /** The tenant id does not match the allowlist. */
  TENANT_ID_INVALID: 'TENANT_ID_INVALID',
  /** The tenant is in use and cannot be evicted without `force`. */
  TENANT_BUSY: 'TENANT_BUSY',
  /** A workspace file name is not an acceptable relative name (traversal, absolute, encoded, NUL, …). */
  PATH_INVALID: 'PATH_INVALID',
  /** A resolved path would leave the tenant's root (for example through a symlink). */
  PATH_ESCAPE: 'PATH_ESCAPE',
  /** The named file or entry does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A single file exceeds the per-file size limit. */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** A tenant quota (workspace bytes, connections, request rate) would be exceeded. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** Too many failed attempts or requests; retry after `retryAfterMs`. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Every slot holds a tenant in use; retry after `retryAfterMs`. */
  CAPACITY: 'CAPACITY',
  /** A store or the Cloud Backend could not give a definite answer (outage, timeout, 5xx). */
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  /** A configuration value (operator file, tenant config or payload) is invalid. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** A concurrent writer changed the record first (compare-and-set failed). */
  CONFLICT: 'CONFLICT',
  /** Another node holds the tenant's lease; `details.owner` names it. */
  LEASE_HELD: 'LEASE_HELD',
  /** This node's lease on the tenant expired or was taken over; its writes are refused. */
  LEASE_LOST: 'LEASE_LOST',
  /** The operation needs a capability this adapter does not declare. */
  NOT_SUPPORTED: 'NOT_SUPPORTED',
  /** The manager or store is closing or closed. */
  CLOSED: 'CLOSED',
  /** A request or frame is malformed or not allowed. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** An unexpected internal failure; `cause` holds the original error. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of the stable error codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Codes whose operation may succeed if retried later, unchanged. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'RATE_LIMITED',
  'CAPACITY',
  'BACKEND_UNAVAILABLE',
  'QUOTA_EXCEEDED',
  'LEASE_HELD',
  'LEASE_LOST',
  'CONFLICT',
]);

/** Whether an error with this code is worth retrying unchanged. */
export function isRetryableCode(code: ErrorCode): boolean {
  return RETRYABLE.has(code);
}
