import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** Bounds of the retry delay after failed syncs. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. Default 1 s. */
  initialMs?: number;
  /** Ceiling of every delay. Default 5 min. */
  maxMs?: number;
  /** Floor of every delay, so a run of tiny random draws cannot turn into a busy loop. Default 100 ms. */
  minMs?: number;
}

/**
 * Capped exponential backoff with full jitter: attempt `n` (1-based) waits a uniform random time in
 * `[minMs, min(maxMs, initialMs · 2^(n-1))]`. Full jitter spreads a fleet of gateways that lost the
 * backend at the same moment, instead of having them return in lockstep.
 */
export function createBackoff(options: BackoffOptions = {}, random: () => number = Math.random): (attempt: number) => number {
  const initialMs = positive(options.initialMs ?? 1_000, 'backoff.initialMs');
  const maxMs = positive(options.maxMs ?? 5 * 60_000, 'backoff.maxMs');
  const minMs = Math.min(options.minMs ?? 100, maxMs);
  if (!Number.isFinite(minMs) || minMs < 0) throw new MultiTenantError('CONFIG_INVALID', 'backoff.minMs: expected a non-negative number.');
  return (attempt) => {
    const exponent = Math.min(Math.max(0, Math.floor(attempt) - 1), 52);
    const ceiling = Math.max(minMs, Math.min(maxMs, initialMs * 2 ** exponent));
    const draw = Math.min(Math.max(random(), 0), 1);
    return Math.round(minMs + draw * (ceiling - minMs));
  };
}

function positive(value: number, key: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive number, got ${String(value)}.`);
  return value;
}
