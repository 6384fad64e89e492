/**
 * An exact sliding-window request limit: at most `limit` admissions in any `windowMs`. It keeps the times of
 * the last `limit` admissions in a ring, so a refusal can say exactly when the oldest of them leaves the
 * window — `retryAfterMs` is honest: a request then is admitted, one a millisecond earlier is not.
 */
export class RequestWindow {
  private times: Float64Array;
  private head = 0; // index of the oldest admission once the ring is full
  private count = 0;

  constructor(
    private limitValue: number,
    readonly windowMs: number,
  ) {
    this.times = new Float64Array(limitValue);
  }

  /** The current limit. */
  get limit(): number {
    return this.limitValue;
  }

  /** The time of the newest admission, or `-Infinity`. */
  get newest(): number {
    if (this.count === 0) return Number.NEGATIVE_INFINITY;
    return this.times[(this.head + this.count - 1) % this.limitValue]!;
  }

  /** Admits a request at `now` (returns 0) or returns the milliseconds until one would be admitted. */
  take(now: number): number {
    if (this.count < this.limitValue) {
      this.times[(this.head + this.count) % this.limitValue] = now;
      this.count++;
      return 0;
    }
    const oldest = this.times[this.head]!;
    const wait = oldest + this.windowMs - now;
    if (wait > 0) return wait;
    this.times[this.head] = now;
    this.head = (this.head + 1) % this.limitValue;
    return 0;
  }

  /** Changes the limit, keeping the newest admissions that still fit. */
  resize(limit: number): void {
    if (limit === this.limitValue) return;
    const kept = Math.min(this.count, limit);
    const next = new Float64Array(limit);
    for (let i = 0; i < kept; i++) next[i] = this.times[(this.head + this.count - kept + i) % this.limitValue]!;
    this.times = next;
    this.limitValue = limit;
    this.head = 0;
    this.count = kept;
  }
}
