const WINDOW_MS = 60_000;

interface Counter {
  windowStart: number;
  current: number;
  previous: number;
}

/**
 * Requests per minute per tenant, as a sliding window approximated from two fixed windows (O(1) time
 * and memory per tenant, so a flood costs the flooder a counter increment and nothing more).
 */
export class RequestRate {
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Counts a request for `tenantId` if it fits under `perMinute`; returns 0 when admitted, else the
   * milliseconds until one more request will fit (the real wait, not an average spacing).
   */
  take(tenantId: string, perMinute: number): number {
    const now = this.now();
    let counter = this.counters.get(tenantId);
    if (counter === undefined) {
      counter = { windowStart: now, current: 0, previous: 0 };
      this.counters.set(tenantId, counter);
    }
    roll(counter, now);
    if (estimate(counter, now) + 1 > perMinute) return waitFor(counter, now, perMinute);
    counter.current++;
    return 0;
  }

  /** Forgets a tenant (on eviction). */
  forget(tenantId: string): void {
    this.counters.delete(tenantId);
  }
}

/** Moves the fixed windows forward to `now`. */
function roll(counter: Counter, now: number): void {
  const elapsed = now - counter.windowStart;
  if (elapsed < WINDOW_MS) return;
  counter.previous = elapsed >= 2 * WINDOW_MS ? 0 : counter.current;
  counter.current = 0;
  counter.windowStart = now - (elapsed % WINDOW_MS);
}

/** Requests counted in the sliding minute ending at `now`: the previous window weighted by its overlap. */
function estimate(counter: Counter, now: number): number {
  return counter.previous * (1 - (now - counter.windowStart) / WINDOW_MS) + counter.current;
}

/**
 * The smallest wait after which `estimate + 1 <= perMinute` holds again. Within the current window only
 * the previous window's weight decays; when the current window alone is full, it must become the
 * previous one and decay in turn.
 */
function waitFor(counter: Counter, now: number, perMinute: number): number {
  const room = perMinute - 1;
  const windowEnd = counter.windowStart + WINDOW_MS;
  let at: number;
  if (counter.current <= room && counter.previous > 0) {
    // previous · (1 − x) + current ≤ room  ⇔  x ≥ 1 − (room − current) / previous
    at = counter.windowStart + (1 - (room - counter.current) / counter.previous) * WINDOW_MS;
  } else if (counter.current > 0) {
    // In the next window: current · (1 − x) ≤ room  ⇔  x ≥ 1 − room / current
    at = windowEnd + Math.max(0, 1 - room / counter.current) * WINDOW_MS;
  } else {
    at = windowEnd;
  }
  return Math.max(1, Math.ceil(at - now));
}
