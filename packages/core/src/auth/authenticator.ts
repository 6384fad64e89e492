import { LRUMapWithDelete } from 'mnemonist';
import type { ConfigSource } from '../contracts/config-source.js';
import type { TokenRecord, TokenStore } from '../contracts/token-store.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { MultiTenantError, isMultiTenantError } from '../errors/multi-tenant-error.js';
import { tokenHint } from '../tokens/redact.js';
import { createTokenFormatPolicy, type TokenFormatName, type TokenFormatPolicy } from '../tokens/token-formats.js';
import type { TokenHasher } from '../tokens/token-hasher.js';

/** Who a token authenticates as. */
export interface AuthResult {
  readonly tenantId: string;
  /** The stored hash of the token (what revocation events name). */
  readonly tokenHash: string;
  readonly expiresAt?: number;
  readonly label?: string;
}

/** Sizes and lifetimes of the authentication caches. */
export interface AuthCacheOptions {
  /** How long a valid answer is reused (default 30 s). Expiry and suspension are still checked on every hit. */
  ttlMs?: number;
  /** How long an invalid answer is reused (default 5 s). */
  negativeTtlMs?: number;
  /** Entries kept in each cache (default 10,000). */
  maxEntries?: number;
}

/** Counters of {@link Authenticator}. */
export interface AuthStats {
  hits: number;
  misses: number;
  failures: number;
  unavailable: number;
  positiveEntries: number;
  negativeEntries: number;
}

interface Positive {
  result: AuthResult;
  cachedUntil: number;
}

interface Negative {
  code: ErrorCode;
  tenantId: string | undefined;
  until: number;
}

type Outcome = { result: AuthResult } | { code: ErrorCode; tenantId?: string };

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  TOKEN_UNKNOWN: 'Unknown gateway token.',
  TOKEN_REVOKED: 'This gateway token was revoked.',
  TOKEN_EXPIRED: 'This gateway token has expired.',
  TENANT_SUSPENDED: 'This account is suspended.',
  TENANT_UNKNOWN: 'This account no longer exists.',
};

/** Dependencies of {@link Authenticator}. */
export interface AuthenticatorOptions {
  tokens: TokenStore;
  configs: ConfigSource;
  hasher: TokenHasher;
  cache?: AuthCacheOptions;
  now: () => number;
  /** When set, every valid token resolves to this tenant (single-user mode). */
  singleTenant?: string;
  /** Token formats accepted (default `gt` only); others are refused as `TOKEN_MALFORMED` before any lookup. */
  tokenFormats?: readonly TokenFormatName[];
  /** Told about every failure, with a redacted hint only. */
  onFailure?: (code: ErrorCode, hint: string) => void;
}

/**
 * Token → tenant, with the auth rules of design.md: format and checksum checked before any lookup;
 * stores see only hashes; definite answers cached (positive and negative, short TTLs, size caps),
 * outages never cached; expiry checked on every hit; concurrent misses for one token coalesced; any
 * invalidation also voids lookups already in flight.
 */
export class Authenticator {
  private readonly positive: LRUMapWithDelete<string, Positive>;
  private readonly negative: LRUMapWithDelete<string, Negative>;
  private readonly inflight = new Map<string, Promise<Outcome>>();
  /** Stored hash → cache key, for tokens found under an older pepper. */
  private readonly aliases = new Map<string, string>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private generation = 0;
  /** Tenants with cached suspension answers, so resumption can skip the scan for everyone else. */
  private readonly suspended = new Set<string>();
  private readonly counters = { hits: 0, misses: 0, failures: 0, unavailable: 0 };
  private readonly formatProblem: TokenFormatPolicy;

  constructor(private readonly options: AuthenticatorOptions) {
    this.formatProblem = createTokenFormatPolicy(options.tokenFormats);
    const maxEntries = options.cache?.maxEntries ?? 10_000;
    this.ttlMs = options.cache?.ttlMs ?? 30_000;
    this.negativeTtlMs = options.cache?.negativeTtlMs ?? 5_000;
    this.positive = new LRUMapWithDelete(maxEntries);
    this.negative = new LRUMapWithDelete(maxEntries);
    if (options.tokens.get === undefined && options.tokens.verify === undefined) {
      throw new MultiTenantError('CONFIG_INVALID', `Token store "${options.tokens.name}" implements neither get nor verify.`);
    }
  }

  /**
   * The cached answer for a token when a fresh, still-valid one exists, synchronously; `undefined`
   * otherwise (including for malformed tokens — `authenticate` then reports why). For hot paths that
   * want to skip a promise per request.
   */
  cached(token: unknown): AuthResult | undefined {
    if (this.formatProblem(token) !== undefined) return undefined;
    return this.freshHit(this.options.hasher.hash(token as string), this.options.now());
  }

  /** Resolves a token to its tenant or throws a coded error (`TOKEN_*`, `TENANT_*`, `BACKEND_UNAVAILABLE`). */
  async authenticate(token: unknown): Promise<AuthResult> {
    const problem = this.formatProblem(token);
    if (problem !== undefined) throw this.failure('TOKEN_MALFORMED', token, `Malformed gateway token: ${problem}.`);
    const key = this.options.hasher.hash(token as string);
    const now = this.options.now();
    const hit = this.freshHit(key, now);
    if (hit !== undefined) return hit;
    const miss = this.negative.get(key);
    if (miss !== undefined) {
      if (miss.until > now) throw this.failure(miss.code, token);
      this.negative.delete(key);
    }
    this.counters.misses++;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      const started = this.resolve(token as string, key);
      pending = started.finally(() => {
        if (this.inflight.get(key) === pending) this.inflight.delete(key);
      });
      this.inflight.set(key, pending);
    }
    const outcome = await pending;
    if ('result' in outcome) return outcome.result;
    throw this.failure(outcome.code, token);
  }

  private freshHit(key: string, now: number): AuthResult | undefined {
    const hit = this.positive.get(key);
    if (hit === undefined) return undefined;
    const expiresAt = hit.result.expiresAt;
    if (hit.cachedUntil > now && (expiresAt === undefined || expiresAt > now)) {
      this.counters.hits++;
      return hit.result;
    }
    this.positive.delete(key);
    return undefined;
  }

  /** Forgets everything cached about one stored token hash. */
  invalidateHash(tokenHash: string): void {
    this.generation++;
    const key = this.aliases.get(tokenHash) ?? tokenHash;
    this.aliases.delete(tokenHash);
    this.positive.delete(key);
    this.negative.delete(key);
    this.inflight.delete(key);
  }

  /** Forgets everything cached about one tenant (suspension, deletion, resumption). */
  invalidateTenant(tenantId: string): void {
    this.generation++;
    this.suspended.delete(tenantId);
    for (const [key, entry] of [...this.positive.entries()]) {
      if (entry.result.tenantId === tenantId) this.positive.delete(key);
    }
    for (const [key, entry] of [...this.negative.entries()]) {
      if (entry.tenantId === tenantId) this.negative.delete(key);
    }
    this.inflight.clear();
  }

  /**
   * Forgets cached suspension answers of a tenant that is active again. Cheap when there are none,
   * so it can run on every config change.
   */
  forgetSuspension(tenantId: string): void {
    if (!this.suspended.delete(tenantId)) return;
    this.generation++;
    for (const [key, entry] of [...this.negative.entries()]) {
      if (entry.tenantId === tenantId) this.negative.delete(key);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.generation++;
    this.positive.clear();
    this.negative.clear();
    this.suspended.clear();
    this.aliases.clear();
    this.inflight.clear();
  }

  stats(): AuthStats {
    return { ...this.counters, positiveEntries: this.positive.size, negativeEntries: this.negative.size };
  }

  private async resolve(token: string, key: string): Promise<Outcome> {
    const generation = this.generation;
    let outcome: Outcome;
    try {
      outcome = await this.lookup(token, key);
    } catch (error) {
      this.counters.unavailable++;
      throw isMultiTenantError(error, 'BACKEND_UNAVAILABLE')
        ? error
        : new MultiTenantError('BACKEND_UNAVAILABLE', 'The token store could not answer; try again shortly.', {
            cause: error,
            retryAfterMs: 1000,
          });
    }
    // An invalidation while the lookup ran may have made its answer stale: use it once, cache nothing.
    if (generation !== this.generation) return outcome;
    const now = this.options.now();
    if ('result' in outcome) {
      const limit = outcome.result.expiresAt ?? Number.MAX_SAFE_INTEGER;
      this.positive.set(key, { result: outcome.result, cachedUntil: Math.min(now + this.ttlMs, limit) });
      if (outcome.result.tokenHash !== key) this.aliases.set(outcome.result.tokenHash, key);
    } else {
      this.negative.set(key, { code: outcome.code, tenantId: outcome.tenantId, until: now + this.negativeTtlMs });
      if (outcome.tenantId !== undefined && outcome.code.startsWith('TENANT_')) this.suspended.add(outcome.tenantId);
    }
    return outcome;
  }

  private async lookup(token: string, key: string): Promise<Outcome> {
    const { tokens, hasher } = this.options;
    let record: TokenRecord | undefined;
    if (tokens.verify !== undefined) {
      const verified = await tokens.verify(token);
      record = verified && { ...verified, tokenHash: key };
    } else {
      for (const candidate of hasher.candidates(token)) {
        record = await tokens.get!(candidate);
        if (record !== undefined) break;
      }
    }
    if (record === undefined) return { code: 'TOKEN_UNKNOWN' };
    const tenantId = record.tenantId;
    if (record.status === 'revoked') return { code: 'TOKEN_REVOKED', tenantId };
    if (record.status === 'expired' || (record.expiresAt !== undefined && record.expiresAt <= this.options.now())) {
      return { code: 'TOKEN_EXPIRED', tenantId };
    }
    const tenantStatus = record.tenantStatus ?? (await this.options.configs.get(tenantId))?.status ?? 'active';
    if (tenantStatus === 'suspended') return { code: 'TENANT_SUSPENDED', tenantId };
    if (tenantStatus === 'deleted') return { code: 'TENANT_UNKNOWN', tenantId };
    const result: AuthResult = Object.freeze({
      tenantId: this.options.singleTenant ?? tenantId,
      tokenHash: record.tokenHash,
      ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
      ...(record.label === undefined ? {} : { label: record.label }),
    });
    return { result };
  }

  private failure(code: ErrorCode, token: unknown, message?: string): MultiTenantError {
    this.counters.failures++;
    this.options.onFailure?.(code, typeof token === 'string' ? tokenHint(token) : '[redacted]');
    return new MultiTenantError(code, message ?? MESSAGES[code] ?? 'Authentication failed.');
  }
}
