/** Coalesces writes of a whole-state file: many `schedule()` calls within `delayMs` become one write. */
export interface DebouncedWriter {
  /** Asks for a write within `delayMs`. */
  schedule(): void;
  /** Writes now if a write is pending; resolves when everything scheduled so far is on disk. */
  flush(): Promise<void>;
}

/**
 * Runs `write` at most once per `delayMs`, never two at once; a write that fails is retried at the next
 * schedule or flush and reported through `onError`. Timers are `unref()`ed.
 */
export function createDebouncedWriter(write: () => Promise<void>, delayMs: number, onError: (error: unknown) => void): DebouncedWriter {
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const run = async (): Promise<void> => {
    while (running) await running;
    if (!dirty) return;
    dirty = false;
    running = write()
      .catch((error: unknown) => {
        dirty = true;
        onError(error);
      })
      .finally(() => {
        running = undefined;
      });
    await running;
  };

  return {
    schedule() {
      dirty = true;
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        void run();
      }, delayMs);
      timer.unref();
    },
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await run();
    },
  };
}
