import type { ConsolaInstance } from 'consola';
import { LRUMapWithDelete } from 'mnemonist';
import type { TokenRecord, TokenStore } from '../contracts/token-store.js';
import { MultiTenantError, isMultiTenantError } from '../errors/multi-tenant-error.js';
import { createLogger } from '../logging/logger.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { isWellFormedToken } from '../tokens/token-format.js';
import { createTokenHasher } from '../tokens/token-hasher.js';
import type { CloudClient } from './cloud-client.js';
import { type CloudClock, systemClock } from './clock.js';
import type { VerifyResponse } from './wire-contract.js';

/** A token store answer without its hash (the manager sets it). */
export type VerifiedToken = Omit<TokenRecord, 'tokenHash'>;

/** Options of {@link createCloudTokenStore}. */
export interface CloudTokenStoreOptions {
  client: CloudClient;
  /**
   * How long the last successful verification of a token keeps it working while the backend is
   * unreachable. Default 15 min; 0 disables the grace cache (every outage then denies every login).
   */
  outageGraceMs?: number;
  /** Tokens remembered for the grace period. Default 10,000. */
  graceEntries?: number;
  /**
   * After the backend failed to answer, skip it for this long and answer from the grace cache (or
   * fail fast), so an outage does not hold every login for a full timeout. Default 2 s; 0 disables.
   */
  breakerMs?: number;
  /** HMAC peppers for the grace cache keys (SHA-256 without). The cache never holds a token. */
  peppers?: readonly string[];
  clock?: CloudClock;
  logger?: ConsolaInstance;
  /** Told about every definite valid answer (the backend's config version lets a sync catch up). */
  onVerified?: (answer: VerifyResponse) => void;
}

/** Counters of the cloud token store. */
export interface CloudTokenStoreStats {
  verified: number;
  invalid: number;
  unavailable: number;
  graceHits: number;
  graceEntries: number;
}

/** The Cloud Backend as a {@link TokenStore}: `verify` only, plus grace-cache maintenance. */
export interface CloudTokenStore extends TokenStore {
  verify(token: string): Promise<VerifiedToken | undefined>;
  stats(): CloudTokenStoreStats;
}

interface GraceEntry {
  record: VerifiedToken;
  verifiedAt: number;
}

/**
 * Verifies gateway tokens against `POST /openclaw/gateway/verify`, tri-state:
 * - valid (200): returns the record, with the backend's view of the user in `tenantStatus`;
 * - invalid (401/404, or a token that is not well formed): returns `undefined`;
 * - unknown (5xx, timeout, unreachable, contract violation): serves the last successful verification
 *   of this token if it is younger than `outageGraceMs`, else throws `BACKEND_UNAVAILABLE` with
 *   `retryAfterMs`. Grace answers omit `tenantStatus`, so the manager consults the synced
 *   last-known-good config, and a suspension that synced before the outage still holds.
 *
 * Only the first two are definite (the authenticator caches them); the grace cache is keyed by token
 * hash and forgets a token on any definite non-valid answer.
 */
export function createCloudTokenStore(options: CloudTokenStoreOptions): CloudTokenStore {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger({ tag: 'openclaw-mt:cloud' });
  const graceMs = nonNegative(options.outageGraceMs ?? 15 * 60_000, 'outageGraceMs');
  const breakerMs = nonNegative(options.breakerMs ?? 2_000, 'breakerMs');
  const hasher = createTokenHasher({ peppers: options.peppers ?? [] });
  const grace = new LRUMapWithDelete<string, GraceEntry>(Math.max(1, options.graceEntries ?? 10_000));
  const counters = { verified: 0, invalid: 0, unavailable: 0, graceHits: 0 };
  let openUntil = 0;
  let lastFailure: MultiTenantError | undefined;

  const fromGrace = (key: string, failure: MultiTenantError): VerifiedToken => {
    const now = clock.now();
    const entry = grace.get(key);
    if (entry !== undefined && graceMs > 0 && now - entry.verifiedAt <= graceMs) {
      const expiresAt = entry.record.expiresAt;
      if (expiresAt === undefined || expiresAt > now) {
        counters.graceHits++;
        return { ...entry.record };
      }
    }
    if (entry !== undefined) grace.delete(key);
    counters.unavailable++;
    throw new MultiTenantError('BACKEND_UNAVAILABLE', 'The Cloud Backend cannot verify tokens right now; try again shortly.', {
      cause: failure,
      retryAfterMs: Math.max(failure.retryAfterMs ?? 0, breakerMs, 1_000),
      details: { reason: failure.details.reason ?? 'unavailable' },
    });
  };

  return {
    name: 'cloud',
    capabilities: { write: false, list: false, watch: false },

    async verify(token) {
      if (!isWellFormedToken(token)) return undefined;
      const key = hasher.hash(token);
      if (breakerMs > 0 && clock.now() < openUntil && lastFailure !== undefined) return fromGrace(key, lastFailure);
      let answer: VerifyResponse;
      try {
        const outcome = await options.client.verify(token);
        if (outcome.kind === 'invalid') {
          counters.invalid++;
          grace.delete(key);
          return undefined;
        }
        answer = outcome.answer;
      } catch (error) {
        const failure = isMultiTenantError(error, 'BACKEND_UNAVAILABLE')
          ? error
          : new MultiTenantError('BACKEND_UNAVAILABLE', 'The Cloud Backend answered outside the contract.', {
              cause: error,
              retryAfterMs: 1_000,
              details: { reason: isMultiTenantError(error) ? (error.details.reason ?? error.code) : 'invalid-response' },
            });
        if (breakerMs > 0 && failure.details.reason !== 'invalid-payload') {
          openUntil = clock.now() + breakerMs;
          lastFailure = failure;
        }
        log.debug(`token verification unavailable (${String(failure.details.reason ?? failure.code)})`);
        return fromGrace(key, failure);
      }
      openUntil = 0;
      lastFailure = undefined;
      counters.verified++;
      options.onVerified?.(answer);
      const now = clock.now();
      const tenantId = assertTenantId(answer.userId);
      const base: VerifiedToken = {
        tenantId,
        status: answer.status === 'expired' ? 'expired' : 'active',
        createdAt: now,
        ...(answer.expiresAt == null ? {} : { expiresAt: answer.expiresAt }),
      };
      if (answer.status !== 'active') {
        grace.delete(key);
        return answer.status === 'suspended' ? { ...base, tenantStatus: 'suspended' } : base;
      }
      grace.set(key, { record: base, verifiedAt: now });
      return { ...base, tenantStatus: 'active' };
    },

    stats() {
      return { ...counters, graceEntries: grace.size };
    },

    async close() {
      grace.clear();
    },
  };
}

function nonNegative(value: number, key: string): number {
  if (!Number.isFinite(value) || value < 0) throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a non-negative number, got ${String(value)}.`);
  return value;
}
