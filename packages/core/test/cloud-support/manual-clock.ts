import type { CloudClock } from '@openclaw-mt/core/cloud';

/**
 * A clock whose time moves only when the test says so. `advance` runs every timer that falls due, in
 * order, awaiting what each callback returns (the sync's callbacks return the run's promise), so a
 * five-minute outage with its backoff schedule runs in milliseconds.
 */
export class ManualClock implements CloudClock {
  time = Date.UTC(2026, 0, 1);
  private readonly timers = new Map<number, { at: number; callback: () => unknown }>();
  private nextId = 1;

  now = (): number => this.time;

  setTimeout(callback: () => unknown, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running due timers on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => unknown }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      await next[1].callback();
    }
    this.time = target;
  }
}
