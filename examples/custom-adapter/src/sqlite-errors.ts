import { MultiTenantError, isMultiTenantError } from '@openclaw-mt/core';

// SQLite result codes that mean "no definite answer right now": the caller may retry.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|READONLY|NOMEM|INTERRUPT)/;

/**
 * Turns anything thrown by the SQLite binding into a coded {@link MultiTenantError}: lock timeouts and
 * I/O failures become retryable `BACKEND_UNAVAILABLE` (so the manager never caches them), anything
 * else `INTERNAL`. Coded errors pass through unchanged.
 */
export function toStoreError(error: unknown, store: string): MultiTenantError {
  if (isMultiTenantError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) {
    return new MultiTenantError('BACKEND_UNAVAILABLE', `${store}: the SQLite database is unavailable (${code}); retry later.`, {
      cause: error,
      retryAfterMs: 100,
      details: { sqliteCode: code },
    });
  }
  return new MultiTenantError('INTERNAL', `${store}: unexpected SQLite failure.`, {
    cause: error,
    ...(typeof code === 'string' ? { details: { sqliteCode: code } } : {}),
  });
}

/** Runs `body`, rethrowing every failure as a coded error of `store`. */
export function guard<T>(store: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw toStoreError(error, store);
  }
}

/** The `CLOSED` error every store and handle throws after `close()`. */
export function closedError(what: string): MultiTenantError {
  return new MultiTenantError('CLOSED', `${what} is closed; open a new one.`);
}
