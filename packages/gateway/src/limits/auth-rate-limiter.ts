import { LRUMapWithDelete } from 'mnemonist';
import { MultiTenantError } from '@openclaw-mt/core';

/** Options of {@link AuthRateLimiter}. */
export interface AuthRateLimitOptions {
  /** Failed authentications answered per address, and per credential at an address, within `windowMs` (default 10). */
  maxFailures?: number;
  /** Sliding window length (default 60 s). */
  windowMs?: number;
  /** How long an address or a credential is locked out after too many failures (default 5 min). */
  lockoutMs?: number;
  /** Addresses (and address–credential pairs) tracked at once; the least recently seen are forgotten first (default 100,000). */
  maxAddresses?: number;
  now?: () => number;
}

interface Counter {
  /** Failure times within the window, oldest first. */
  failures: number[];
  /** Attempts being checked right now: they count against the limit before they are answered. */
  inFlight: number;
  lockedUntil: number;
}

/**
 * How one authentication attempt may proceed:
 * - `refused`: this credential is locked out at this address; answer `RATE_LIMITED` without any lookup.
 * - `hidden`: the address used up its answers; check the credential, admit it if valid, but answer a
 *   failure with `RATE_LIMITED` instead of its verdict (so others behind the address still get in).
 * - `answered`: check and answer normally.
 */
export type AuthAttemptMode = 'refused' | 'hidden' | 'answered';

/** One authentication attempt, counted from its start; finish it exactly once. */
export interface AuthAttempt {
  readonly mode: AuthAttemptMode;
  /** For `refused` and `hidden`: how long until an answer may be given again. */
  readonly retryAfterMs: number;
  /** The credential was valid (does not clear earlier failures). */
  succeeded(): void;
  /** The credential was wrong (a guess). */
  failed(): void;
  /** Neither: an outage or capacity refusal, which says nothing about the credential. */
  abandoned(): void;
}

/**
 * Failed authentications per client address and per (address, credential): a sliding window, then a
 * temporary lockout. Attempts count from the moment they start, so concurrent guesses cannot race past
 * the limit; a success never clears failures. A credential that keeps failing (a revoked client
 * reconnecting) locks out only itself at that address; an address that used up its answers gets no more
 * verdicts on wrong credentials, while valid credentials from it are still admitted. Memory is bounded
 * by LRUs, so a spray of addresses or credentials cannot exhaust it.
 */
export class AuthRateLimiter {
  private readonly addresses: LRUMapWithDelete<string, Counter>;
  private readonly credentials: LRUMapWithDelete<string, Counter>;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;

  constructor(options: AuthRateLimitOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.lockoutMs = options.lockoutMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.addresses = new LRUMapWithDelete(options.maxAddresses ?? 100_000);
    this.credentials = new LRUMapWithDelete(options.maxAddresses ?? 100_000);
  }

  /** Milliseconds until `credential` may be tried again from `address` (0: now). Changes nothing. */
  credentialRetryAfterMs(address: string, credential: string): number {
    const counter = this.credentials.peek(keyOf(address, credential));
    return counter === undefined ? 0 : this.waitOf(counter, this.now());
  }

  /** Starts an attempt with `credential` (a fingerprint, never the secret) from `address`. */
  begin(address: string, credential: string): AuthAttempt {
    const now = this.now();
    const byCredential = this.counter(this.credentials, keyOf(address, credential), now);
    const credentialWait = this.waitOf(byCredential, now);
    if (credentialWait > 0) return { mode: 'refused', retryAfterMs: credentialWait, succeeded() {}, failed() {}, abandoned() {} };
    const byAddress = this.counter(this.addresses, address, now);
    const addressWait = this.waitOf(byAddress, now);
    const answered = addressWait === 0;
    byCredential.inFlight++;
    if (answered) byAddress.inFlight++;
    let finished = false;
    const finish = (failed: boolean) => {
      if (finished) return;
      finished = true;
      const at = this.now();
      byCredential.inFlight--;
      if (failed) this.recordFailure(byCredential, at);
      if (!answered) return;
      byAddress.inFlight--;
      if (failed) this.recordFailure(byAddress, at);
    };
    return {
      mode: answered ? 'answered' : 'hidden',
      retryAfterMs: addressWait,
      succeeded: () => finish(false),
      failed: () => finish(true),
      abandoned: () => finish(false),
    };
  }

  private counter(map: LRUMapWithDelete<string, Counter>, key: string, now: number): Counter {
    let counter = map.get(key);
    if (counter === undefined) {
      counter = { failures: [], inFlight: 0, lockedUntil: 0 };
      map.set(key, counter);
    }
    const horizon = now - this.windowMs;
    while (counter.failures.length > 0 && counter.failures[0]! <= horizon) counter.failures.shift();
    return counter;
  }

  /** 0 when one more attempt may be answered, else how long until one may. */
  private waitOf(counter: Counter, now: number): number {
    if (counter.lockedUntil > now) return counter.lockedUntil - now;
    const horizon = now - this.windowMs;
    const live = counter.failures.filter((at) => at > horizon);
    if (live.length + counter.inFlight < this.maxFailures) return 0;
    // Full with attempts still being checked: one of them may yet succeed and free its place.
    const oldest = live[0];
    return oldest === undefined ? 1_000 : Math.max(1, oldest + this.windowMs - now);
  }

  private recordFailure(counter: Counter, at: number): void {
    counter.failures.push(at);
    if (counter.failures.length < this.maxFailures) return;
    counter.failures.length = 0;
    counter.lockedUntil = at + this.lockoutMs;
  }
}

function keyOf(address: string, credential: string): string {
  return `${address}\n${credential}`;
}

/** The answer to a locked-out attempt: `RATE_LIMITED` saying how long, in words and in `retryAfterMs`. */
export function authLockoutError(retryAfterMs: number): MultiTenantError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new MultiTenantError('RATE_LIMITED', `Too many failed authentications; try again in ${seconds} s.`, {
    retryAfterMs,
    details: { reason: 'auth-lockout' },
  });
}
