import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** How much of each delay is random. */
export type BackoffJitter = 'full' | 'equal' | 'none';

/** Bounds and shape of a retry delay. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. Default 1 s. */
  initialMs?: number;
  /** Ceiling of every delay. Default 5 min. */
  maxMs?: number;
  /** Floor of every delay, so a run of tiny random draws cannot turn into a busy loop. Default 100 ms. */
  minMs?: number;
  /** Growth of the ceiling per attempt. Default 2. */
  factor?: number;
  /**
   * `full` (default): uniform in `[minMs, ceiling]`; `equal`: uniform in the upper half of it; `none`:
   * the ceiling itself, for retries of one caller that no fleet repeats in lockstep.
   */
  jitter?: BackoffJitter;
}

/**
 * Capped exponential backoff: attempt `n` (1-based) has the ceiling `min(maxMs, initialMs · factor^(n-1))`
 * (never below `minMs`) and waits a random time under it chosen by `jitter`; delays are whole
 * milliseconds. Full jitter spreads a fleet of gateways that lost a backend at the same moment, instead
 * of having them return in lockstep. `random` yields uniform numbers in [0, 1) (injectable for tests).
 */
export function createBackoff(options: BackoffOptions = {}, random: () => number = Math.random): (attempt: number) => number {
  const initialMs = positive(options.initialMs ?? 1_000, 'backoff.initialMs');
  const maxMs = positive(options.maxMs ?? 5 * 60_000, 'backoff.maxMs');
  const minMs = Math.min(options.minMs ?? 100, maxMs);
  if (!Number.isFinite(minMs) || minMs < 0) throw new MultiTenantError('CONFIG_INVALID', 'backoff.minMs: expected a non-negative number.');
  const factor = options.factor ?? 2;
  if (!Number.isFinite(factor) || factor < 1)
    throw new MultiTenantError('CONFIG_INVALID', `backoff.factor: expected a number of at least 1, got ${String(factor)}.`);
  const jitter = options.jitter ?? 'full';
  return (attempt) => {
    const exponent = Math.min(Math.max(0, Math.floor(attempt) - 1), 52);
    const ceiling = Math.max(minMs, Math.min(maxMs, initialMs * factor ** exponent));
    if (jitter === 'none') return Math.round(ceiling);
    const floor = jitter === 'equal' ? Math.max(minMs, ceiling / 2) : minMs;
    const draw = Math.min(Math.max(random(), 0), 1);
    return Math.round(floor + draw * (ceiling - floor));
  };
}

function positive(value: number, key: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive number, got ${String(value)}.`);
  return value;
}
