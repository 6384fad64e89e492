import { LRUMapWithDelete } from 'mnemonist';

/** Options of {@link AuthRateLimiter}. */
export interface AuthRateLimitOptions {
  /** Failed authentications allowed per address within `windowMs` (default 10). */
  maxFailures?: number;
  /** Sliding window length (default 60 s). */
  windowMs?: number;
  /** How long an address is locked out after too many failures (default 5 min). */
  lockoutMs?: number;
  /** Addresses tracked at once; the least recently seen are forgotten first (default 100,000). */
  maxAddresses?: number;
  now?: () => number;
}

interface AddressState {
  /** Failure times within the window, oldest first, at most `maxFailures`. */
  failures: number[];
  lockedUntil: number;
}

/**
 * Failed authentications per client address: a sliding window, then a temporary lockout. Memory is
 * bounded by an LRU of addresses, so a spray of addresses cannot exhaust it.
 */
export class AuthRateLimiter {
  private readonly addresses: LRUMapWithDelete<string, AddressState>;
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
  }

  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfterMs(address: string): number {
    const state = this.addresses.peek(address);
    if (state === undefined) return 0;
    return Math.max(0, state.lockedUntil - this.now());
  }

  /** Records a failed authentication; returns the lockout length when this failure triggered one. */
  recordFailure(address: string): number {
    const now = this.now();
    let state = this.addresses.get(address);
    if (state === undefined) {
      state = { failures: [], lockedUntil: 0 };
      this.addresses.set(address, state);
    }
    const horizon = now - this.windowMs;
    while (state.failures.length > 0 && state.failures[0]! <= horizon) state.failures.shift();
    state.failures.push(now);
    if (state.failures.length < this.maxFailures) return 0;
    state.failures.length = 0;
    state.lockedUntil = now + this.lockoutMs;
    return this.lockoutMs;
  }

  /** A successful authentication clears the address's failures (not an active lockout). */
  recordSuccess(address: string): void {
    const state = this.addresses.peek(address);
    if (state !== undefined && state.lockedUntil <= this.now()) this.addresses.delete(address);
  }
}
