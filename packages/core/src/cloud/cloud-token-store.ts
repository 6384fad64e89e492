import { hash } from 'node:crypto';
import type { ConsolaInstance } from 'consola';
import { LRUMapWithDelete } from 'mnemonist';
import { createListeners } from '../contracts/listeners.js';
import type { TokenChange, TokenRecord, TokenStore } from '../contracts/token-store.js';
import { MultiTenantError, isMultiTenantError } from '../errors/multi-tenant-error.js';
import { createLogger } from '../logging/logger.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { createTokenFormatPolicy, type TokenFormatName } from '../tokens/token-formats.js';
import { createTokenHasher } from '../tokens/token-hasher.js';
import type { CloudClient } from './cloud-client.js';
import { type CloudClock, systemClock } from './clock.js';
import type { VerifyOutcome } from './dialects/cloud-dialect.js';
import { type VerifiedTokenRecord, type VerifiedTokenStore, createMemoryVerifiedTokenStore } from './verified-tokens.js';
import type { TokenEvent } from './wire-contract.js';

/** A token store answer without its hash (the manager sets it). */
export type VerifiedToken = Omit<TokenRecord, 'tokenHash'>;

/** A definite valid verify answer, as handed to `onVerified`. */
export type VerifiedAnswer = Extract<VerifyOutcome, { kind: 'valid' }> & { tenantId: string };

/** A change of the backend's health as verification sees it (for alerts). */
export type VerifyHealthEvent = { healthy: false; error: MultiTenantError } | { healthy: true; downtimeMs: number };

/** Options of {@link createCloudTokenStore}. */
export interface CloudTokenStoreOptions {
  client: CloudClient;
  /**
   * How long the last successful verification of a token keeps it working while the backend is
   * unreachable. Default 15 min; 0 disables the grace (every outage then denies every login).
   */
  outageGraceMs?: number;
  /** Tokens remembered for the grace period. Default 10,000. */
  graceEntries?: number;
  /**
   * After the backend failed to answer, skip it for this long and answer from the grace (or
   * fail fast), so an outage does not hold every login for a full timeout. Default 2 s; 0 disables.
   */
  breakerMs?: number;
  /** HMAC peppers for the grace keys (SHA-256 without): the manager's peppers. The grace never holds a token. */
  peppers?: readonly string[];
  /** Token formats sent to the backend (default: the dialect's); anything else is invalid without a request. */
  tokenFormats?: readonly TokenFormatName[];
  /**
   * Where the grace is persisted, so a restart during an outage still admits users verified shortly
   * before (`createFileVerifiedTokenStore`). Default: memory only.
   */
  verifiedTokens?: VerifiedTokenStore;
  clock?: CloudClock;
  logger?: ConsolaInstance;
  /**
   * The synced status of a tenant. With a backend whose "invalid" also covers suspended users (the fork's),
   * a token this gateway verified before for a tenant the synced copy shows suspended is refused as
   * `TENANT_SUSPENDED` — tied to the tenant, so its resumption lifts the refusal at once.
   */
  tenantStatusOf?: (tenantId: string) => Promise<'active' | 'suspended' | 'deleted' | undefined>;
  /** Awaited after every definite valid answer, before it is returned (config catch-up, tenant status, secrets). */
  onVerified?: (verified: VerifiedAnswer) => void | Promise<void>;
  /** Told when verification starts failing (once per outage) and when it works again. */
  onHealth?: (event: VerifyHealthEvent) => void;
  /** While verification keeps failing, at most one warning per this period. Default 60 s. */
  failureLogIntervalMs?: number;
}

/** Counters of the cloud token store. */
export interface CloudTokenStoreStats {
  verified: number;
  invalid: number;
  unavailable: number;
  graceHits: number;
  graceEntries: number;
  /** Token events (revoked, rotated, expired) applied from the feed or pushes. */
  tokenEvents: number;
}

/** The Cloud Backend as a {@link TokenStore}: `verify`, token events, and the outage grace. */
export interface CloudTokenStore extends TokenStore {
  verify(token: string): Promise<VerifiedToken | undefined>;
  /**
   * Applies a token event from the feed or a push: a revoked or expired token (named by its SHA-256) is
   * refused from now on — its grace entry is dropped on disk too — and the manager is told, which closes
   * its sockets and drops it from the auth cache. A rotated one keeps working until its `expiresAt`.
   */
  applyTokenEvent(event: TokenEvent): void;
  /** Reports revocations (and rotations) to the manager, which subscribes on construction. */
  watch(listener: (change: TokenChange) => void): () => void;
  /** Whether the last verification got a definite answer (false during an outage). */
  readonly healthy: boolean;
  stats(): CloudTokenStoreStats;
  /** Writes the persisted grace now. */
  flush(): Promise<void>;
}

interface GraceEntry {
  record: VerifiedTokenRecord;
  /** `verifiedAt` as last written to the persisted store. */
  persistedAt: number;
}

/**
 * Verifies gateway tokens against the backend's verify route, tri-state:
 * - valid (200): returns the record, with the backend's view of the user in `tenantStatus`;
 * - invalid (the dialect's "no such token", a token not in an accepted format, or one whose revocation
 *   this gateway has seen): returns `undefined`;
 * - unknown (5xx, timeout, unreachable, contract violation): serves the last successful verification
 *   of this token if it is younger than `outageGraceMs` — from memory or, after a restart, from the
 *   persisted grace — else throws `BACKEND_UNAVAILABLE` with `retryAfterMs`. Grace answers omit
 *   `tenantStatus`, so the manager consults the synced last-known-good config, and a suspension that
 *   synced before the outage still holds.
 *
 * Failures are logged (the first of an outage at once, then at most once per `failureLogIntervalMs`) and
 * reported through `onHealth`. Keys are hashes; no token is ever kept.
 */
export function createCloudTokenStore(options: CloudTokenStoreOptions): CloudTokenStore {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger({ tag: 'openclaw-mt:cloud' });
  const graceMs = nonNegative(options.outageGraceMs ?? 15 * 60_000, 'outageGraceMs');
  const breakerMs = nonNegative(options.breakerMs ?? 2_000, 'breakerMs');
  const logIntervalMs = nonNegative(options.failureLogIntervalMs ?? 60_000, 'failureLogIntervalMs');
  const hasher = createTokenHasher({ peppers: options.peppers ?? [] });
  const formatProblem = createTokenFormatPolicy(options.tokenFormats ?? options.client.dialect.tokenFormats);
  const persisted = options.verifiedTokens ?? createMemoryVerifiedTokenStore();
  const capacity = Math.max(1, options.graceEntries ?? 10_000);
  const grace = new LRUMapWithDelete<string, GraceEntry>(capacity);
  // Backend hash → gateway hash, so a token event finds the sockets and cache entries of a peppered gateway.
  const byBackendHash = new LRUMapWithDelete<string, string>(Math.max(capacity, 50_000));
  // Revocations seen: a token cannot come back, so a verify answer that raced its revocation is refused too.
  const revoked = new LRUMapWithDelete<string, number>(100_000);
  // Gateway hash → the tenant the backend last named for it, kept past an "invalid" (see `tenantStatusOf`).
  const tenantOf = new LRUMapWithDelete<string, string>(capacity);
  const listeners = createListeners<TokenChange>();
  const counters = { verified: 0, invalid: 0, unavailable: 0, graceHits: 0, tokenEvents: 0 };
  // Persist a re-verification only when the stored time is this stale: bounds writes, costs this much grace.
  const refreshMs = Math.max(1_000, Math.floor(graceMs / 10));
  let openUntil = 0;
  let lastFailure: MultiTenantError | undefined;
  let failingSince: number | undefined;
  let lastLogAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  const backendHashOf = (token: string, key: string) => (hasher.peppered ? hash('sha256', token, 'hex') : key);

  const loaded = persisted
    .load()
    .then((records) => {
      const now = clock.now();
      for (const record of records) {
        if (graceMs === 0 || now - record.verifiedAt > graceMs || (record.expiresAt !== undefined && record.expiresAt <= now)) {
          persisted.delete(record.tokenHash);
          continue;
        }
        if (grace.has(record.tokenHash) || revoked.has(record.backendHash)) continue;
        const evicted = grace.setpop(record.tokenHash, { record, persistedAt: record.verifiedAt });
        if (evicted?.evicted) persisted.delete(evicted.key);
        byBackendHash.set(record.backendHash, record.tokenHash);
      }
    })
    .catch((error: unknown) => log.warn(`Loading the persisted outage grace failed: ${messageOf(error)}`));

  // Always on disk too: the file may hold tokens the in-memory LRU already let go.
  const forget = (key: string) => {
    grace.delete(key);
    persisted.delete(key);
  };

  const remember = (record: VerifiedTokenRecord) => {
    const previous = grace.get(record.tokenHash);
    const stale =
      previous === undefined || record.verifiedAt - previous.persistedAt >= refreshMs || previous.record.expiresAt !== record.expiresAt;
    const evicted = grace.setpop(record.tokenHash, { record, persistedAt: stale ? record.verifiedAt : previous.persistedAt });
    // The file holds what memory holds: a token the LRU let go has no grace left anywhere.
    if (evicted?.evicted) persisted.delete(evicted.key);
    byBackendHash.set(record.backendHash, record.tokenHash);
    if (stale) persisted.put(record);
  };

  const noteFailure = (failure: MultiTenantError) => {
    const now = clock.now();
    if (failingSince === undefined) {
      failingSince = now;
      lastLogAt = now;
      suppressed = 0;
      log.warn(
        `Cloud Backend token verification failed (${String(failure.details.reason ?? failure.code)}): ${failure.message} ` +
          `Tokens verified in the last ${Math.round(graceMs / 60_000)} min are admitted from the outage grace; others get BACKEND_UNAVAILABLE.`,
      );
      options.onHealth?.({ healthy: false, error: failure });
      return;
    }
    if (now - lastLogAt >= logIntervalMs) {
      log.warn(
        `Cloud Backend token verification still failing since ${new Date(failingSince).toISOString()}: ${suppressed + 1} failures since the last report (last: ${failure.message})`,
      );
      lastLogAt = now;
      suppressed = 0;
    } else suppressed++;
  };

  const noteAnswer = () => {
    if (failingSince === undefined) return;
    const downtimeMs = Math.max(0, clock.now() - failingSince);
    failingSince = undefined;
    log.info(`Cloud Backend token verification works again after ${Math.round(downtimeMs / 1000)} s.`);
    options.onHealth?.({ healthy: true, downtimeMs });
  };

  const fromGrace = async (key: string, failure: MultiTenantError): Promise<VerifiedToken> => {
    await loaded;
    const now = clock.now();
    const entry = grace.get(key);
    if (entry !== undefined && graceMs > 0 && now - entry.record.verifiedAt <= graceMs && !revoked.has(entry.record.backendHash)) {
      const expiresAt = entry.record.expiresAt;
      if (expiresAt === undefined || expiresAt > now) {
        counters.graceHits++;
        return {
          tenantId: entry.record.tenantId,
          status: 'active',
          createdAt: entry.record.verifiedAt,
          ...(expiresAt === undefined ? {} : { expiresAt }),
        };
      }
    }
    if (entry !== undefined) forget(key);
    counters.unavailable++;
    throw new MultiTenantError('BACKEND_UNAVAILABLE', 'The Cloud Backend cannot verify tokens right now; try again shortly.', {
      cause: failure,
      retryAfterMs: Math.max(failure.retryAfterMs ?? 0, breakerMs, 1_000),
      details: { reason: failure.details.reason ?? 'unavailable' },
    });
  };

  return {
    name: 'cloud',
    capabilities: { write: false, list: false, watch: true },

    get healthy() {
      return failingSince === undefined;
    },

    async verify(token) {
      if (formatProblem(token) !== undefined) return undefined;
      const key = hasher.hash(token);
      const backendHash = backendHashOf(token, key);
      if (revoked.has(backendHash)) return undefined;
      if (breakerMs > 0 && clock.now() < openUntil && lastFailure !== undefined) return fromGrace(key, lastFailure);
      let outcome: VerifyOutcome;
      try {
        outcome = await options.client.verify(token);
      } catch (error) {
        const failure = isMultiTenantError(error, 'BACKEND_UNAVAILABLE')
          ? error
          : new MultiTenantError('BACKEND_UNAVAILABLE', `The Cloud Backend answered outside the contract: ${messageOf(error)}`, {
              cause: error,
              retryAfterMs: 1_000,
              details: { reason: isMultiTenantError(error) ? (error.details.reason ?? error.code) : 'invalid-response' },
            });
        if (breakerMs > 0 && failure.details.reason !== 'invalid-payload') {
          openUntil = clock.now() + breakerMs;
          lastFailure = failure;
        }
        noteFailure(failure);
        return fromGrace(key, failure);
      }
      openUntil = 0;
      lastFailure = undefined;
      noteAnswer();
      if (outcome.kind === 'invalid') {
        counters.invalid++;
        const knownTenant = tenantOf.get(key);
        forget(key);
        if (knownTenant !== undefined && options.client.dialect.invalidCoversSuspended && options.tenantStatusOf !== undefined) {
          const status = await options.tenantStatusOf(knownTenant).catch(() => undefined);
          if (status === 'suspended' || status === 'deleted') {
            return { tenantId: knownTenant, status: 'active', createdAt: clock.now(), tenantStatus: status };
          }
        }
        return undefined;
      }
      const answer = outcome.answer;
      const tenantId = assertTenantId(answer.userId);
      // A revocation that arrived while this request was in flight wins.
      if (revoked.has(backendHash)) return undefined;
      counters.verified++;
      try {
        await options.onVerified?.({ ...outcome, tenantId });
      } catch (error) {
        // What follows a verification (catch-up, secrets) must never turn a definite answer into an outage.
        log.warn(`handling a verify answer for ${tenantId} failed: ${messageOf(error)}`);
      }
      tenantOf.set(key, tenantId);
      const now = clock.now();
      const base: VerifiedToken = {
        tenantId,
        status: answer.status === 'expired' ? 'expired' : 'active',
        createdAt: now,
        ...(answer.expiresAt == null ? {} : { expiresAt: answer.expiresAt }),
      };
      if (answer.status !== 'active') {
        forget(key);
        return answer.status === 'suspended' ? { ...base, tenantStatus: 'suspended' } : base;
      }
      if (graceMs > 0) {
        remember({
          tokenHash: key,
          backendHash,
          tenantId,
          verifiedAt: now,
          ...(base.expiresAt === undefined ? {} : { expiresAt: base.expiresAt }),
        });
      }
      return { ...base, tenantStatus: 'active' };
    },

    applyTokenEvent(event) {
      counters.tokenEvents++;
      const now = clock.now();
      const key = byBackendHash.get(event.tokenHash) ?? (hasher.peppered ? undefined : event.tokenHash);
      const stopsNow = event.type !== 'rotated' || (event.expiresAt != null && event.expiresAt <= now);
      if (stopsNow) {
        revoked.set(event.tokenHash, now);
        byBackendHash.delete(event.tokenHash);
        persisted.deleteBackendHash(event.tokenHash);
        if (key !== undefined) {
          forget(key);
          tenantOf.delete(key);
          listeners.emit({ type: 'revoked', tokenHash: key, tenantId: event.userId });
        }
        return;
      }
      if (key === undefined) return;
      const entry = grace.get(key);
      if (entry !== undefined && event.expiresAt != null) {
        const expiresAt = Math.min(entry.record.expiresAt ?? Number.MAX_SAFE_INTEGER, event.expiresAt);
        remember({ ...entry.record, expiresAt });
      }
      // The auth cache re-asks the backend, which knows the new expiry.
      listeners.emit({ type: 'rotated', tokenHash: key, tenantId: event.userId });
    },

    watch: (listener) => listeners.add(listener),

    stats() {
      return { ...counters, graceEntries: grace.size };
    },

    async flush() {
      await loaded;
      await persisted.flush();
    },

    async close() {
      listeners.clear();
      await loaded;
      await persisted.flush();
      grace.clear();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function nonNegative(value: number, key: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a non-negative number, got ${String(value)}.`);
  return value;
}
