// Timers cannot wait longer than ~24.8 days: a longer wait is re-armed until the deadline.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `expire` once `expiresAt` (epoch ms) has passed, at once when it already has; the timer never
 * keeps the process alive. Returns the function that cancels it.
 */
export function atDeadline(expiresAt: number, expire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) return expire();
    timer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  check();
  return () => clearTimeout(timer);
}
