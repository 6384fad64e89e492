import { type FSWatcher, watch } from 'node:fs';

/** Options for {@link startChangePoller}. */
export interface ChangePollerOptions {
  /** A directory whose changes (reported by `fs.watch`) trigger an early check. */
  directory: string;
  /** Longest time between two checks, whatever `fs.watch` reports. */
  intervalMs: number;
  /** The check. Never runs twice at once; errors are swallowed and the next check retries. */
  check: () => Promise<void>;
}

/** A running poller. */
export interface ChangePoller {
  /** Asks for a check as soon as possible (after a local write, say). */
  kick(): void;
  stop(): void;
}

/**
 * Calls `check` every `intervalMs`, and sooner when `fs.watch` sees the directory change. `fs.watch`
 * alone can miss events (network filesystems, inotify limits), so the interval is the guarantee and
 * the watcher only cuts the delay. Timers are unref()ed: a poller never keeps a process alive.
 */
export function startChangePoller(options: ChangePollerOptions): ChangePoller {
  let running = false;
  let again = false;
  let stopped = false;
  let soon: NodeJS.Timeout | undefined;

  const run = async (): Promise<void> => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          await options.check();
        } catch {
          // A failed check (a file mid-rename, a transient I/O error) is retried on the next tick.
        }
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };

  const kick = (): void => {
    if (stopped || soon !== undefined) return;
    // Coalesce bursts of fs.watch events into one check.
    soon = setTimeout(() => {
      soon = undefined;
      void run();
    }, 5);
    soon.unref();
  };

  const timer = setInterval(() => void run(), options.intervalMs);
  timer.unref();

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.directory, { persistent: false }, kick);
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined;
  }

  return {
    kick,
    stop() {
      stopped = true;
      clearInterval(timer);
      if (soon !== undefined) clearTimeout(soon);
      watcher?.close();
    },
  };
}
