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
   * milliseconds until one more request would fit.
   */
  take(tenantId: string, perMinute: number): number {
    const now = this.now();
    let counter = this.counters.get(tenantId);
    if (counter === undefined) {
      counter = { windowStart: now, current: 0, previous: 0 };
      this.counters.set(tenantId, counter);
    }
    const elapsed = now - counter.windowStart;
    if (elapsed >= WINDOW_MS) {
      counter.previous = elapsed >= 2 * WINDOW_MS ? 0 : counter.current;
      counter.current = 0;
      counter.windowStart = now - (elapsed % WINDOW_MS);
    }
    const intoWindow = (now - counter.windowStart) / WINDOW_MS;
    const estimate = counter.previous * (1 - intoWindow) + counter.current;
    if (estimate + 1 > perMinute) return Math.max(1, Math.ceil(WINDOW_MS / perMinute));
    counter.current++;
    return 0;
  }

  /** Forgets a tenant (on eviction). */
  forget(tenantId: string): void {
    this.counters.delete(tenantId);
  }
}
