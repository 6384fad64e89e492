/** Resolves after `ms`, on abort, or when `until` settles, whichever comes first; never rejects. */
export function abortableWait(ms: number, signal: AbortSignal, until?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish, { once: true });
    void until?.then(finish, finish);
  });
}
