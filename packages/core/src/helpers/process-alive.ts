/**
 * Whether a process with this pid exists on this host. `EPERM` means it exists but belongs to someone
 * else. Pids that are not positive integers count as alive, so nothing is ever judged stale by them
 * (`kill(0)` would address a process group).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
