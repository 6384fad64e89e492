import type { ServerResponse } from 'node:http';
import { isMultiTenantError, type ErrorCode } from '@openclaw-mt/core';
import { redactText } from '@openclaw-mt/core/tokens';

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  TOKEN_MALFORMED: 401,
  TOKEN_UNKNOWN: 401,
  TOKEN_REVOKED: 401,
  TOKEN_EXPIRED: 401,
  TENANT_UNKNOWN: 401,
  TENANT_SUSPENDED: 403,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  FILE_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  CAPACITY: 503,
  BACKEND_UNAVAILABLE: 503,
  LEASE_HELD: 503,
  LEASE_LOST: 503,
  CLOSED: 503,
  CONFIG_INVALID: 500,
};

/** The HTTP status for a failure: by its code, `details.status` when it names one, 500 for anything uncoded. */
export function httpStatusOf(error: unknown): number {
  if (!isMultiTenantError(error)) return 500;
  const named = error.details.status;
  if (typeof named === 'number' && named >= 400 && named <= 599) return named;
  return STATUS_BY_CODE[error.code] ?? (error.retryable ? 503 : 500);
}

/**
 * Answers an HTTP request with a failure: `{ error: { code, message, retryable, retryAfterMs?, details } }`
 * and `Retry-After` (whole seconds) when the error says how long to wait. Uncoded errors say nothing
 * of their cause. Does nothing once the response has started (the caller destroys it instead).
 */
export function sendHttpError(response: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  const status = httpStatusOf(error);
  const body = isMultiTenantError(error)
    ? {
        code: error.code,
        message: redactText(error.message),
        retryable: error.retryable,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        details: { ...error.details },
      }
    : { code: 'INTERNAL', message: 'Internal error.', retryable: false, details: {} };
  const text = JSON.stringify({ error: body });
  const retryAfterMs = isMultiTenantError(error) ? error.retryAfterMs : undefined;
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...(retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }),
  });
  response.end(text);
}
