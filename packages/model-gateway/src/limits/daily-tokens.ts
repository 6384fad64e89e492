const DAY_MS = 86_400_000;

/**
 * Tokens used by one tenant in the current UTC day. The limit is checked before a request is forwarded and the
 * metered usage is charged when its answer ends, so one answer may take a tenant past its limit; the next
 * request is refused until the day turns.
 */
export class DailyTokens {
  private day = -1;
  private usedToday = 0;

  /** Tokens used in the UTC day of `now`. */
  used(now: number): number {
    return Math.floor(now / DAY_MS) === this.day ? this.usedToday : 0;
  }

  /** Adds `tokens` to the day of `now`. */
  charge(tokens: number, now: number): void {
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.usedToday = 0;
    }
    this.usedToday += tokens;
  }

  /** 0 while under `limit`, else the milliseconds until the next UTC day (when the count starts again). */
  check(limit: number, now: number): number {
    return this.used(now) < limit ? 0 : (Math.floor(now / DAY_MS) + 1) * DAY_MS - now;
  }
}
