/**
 * A wait as a person reads it, rounded up to the second: `45 s`, `4 min 59 s`, `5 min`, `1 h 2 min`.
 * Rounding up keeps a client that waits exactly this long from arriving early.
 */
export function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) {
    const rest = seconds % 60;
    return `${Math.floor(seconds / 60)} min${rest === 0 ? '' : ` ${rest} s`}`;
  }
  const minutes = Math.ceil(seconds / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`}`;
}
