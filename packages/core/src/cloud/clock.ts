/**
 * Time as the cloud components see it. Injected so tests can run a five-minute outage, backoff and
 * grace periods without waiting; the default is the system clock with `unref()`ed timers.
 */
export interface CloudClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `callback` after `ms`; the returned handle goes to `clearTimeout`. Must not keep the process alive. */
  setTimeout(callback: () => unknown, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The system clock. */
export const systemClock: CloudClock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(() => void callback(), ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
