import { MultiTenantError, isMultiTenantError, type AuthResult, type TenantManager } from '@openclaw-mt/core';
import { authLockoutError, type AuthRateLimiter } from './auth-rate-limiter.js';
import { credentialFingerprint } from './credential-fingerprint.js';

// Auth failures that count against the client's address (guessing); outages and capacity do not.
const GUESSING = new Set(['TOKEN_MALFORMED', 'TOKEN_UNKNOWN', 'TOKEN_REVOKED', 'TOKEN_EXPIRED', 'TENANT_SUSPENDED', 'TENANT_UNKNOWN']);

/**
 * Checks a presented gateway token through the manager, counted by the brute-force limiter: refused
 * at once while the credential is locked out at `address`, and a wrong one answered only with
 * `RATE_LIMITED` once the address used up its answers. Every login path (WebSocket and HTTP) goes here.
 */
export async function authenticateCounted(
  limiter: AuthRateLimiter,
  manager: TenantManager,
  address: string,
  token: string | undefined,
  missingMessage: string,
): Promise<AuthResult> {
  // Counted before it is checked, so concurrent guesses cannot race past the limit.
  const attempt = limiter.begin(address, credentialFingerprint(token));
  if (attempt.mode === 'refused') throw authLockoutError(attempt.retryAfterMs);
  try {
    if (token === undefined) throw new MultiTenantError('TOKEN_MALFORMED', missingMessage, { details: { reason: 'token-missing' } });
    const result = manager.authenticateCached(token) ?? (await manager.authenticate(token));
    attempt.succeeded();
    return result;
  } catch (error) {
    if (!isMultiTenantError(error) || !GUESSING.has(error.code)) {
      attempt.abandoned();
      throw error;
    }
    attempt.failed();
    // The address used up its answers: a wrong credential learns nothing more than "wait".
    if (attempt.mode === 'hidden') throw authLockoutError(attempt.retryAfterMs);
    throw error;
  }
}
