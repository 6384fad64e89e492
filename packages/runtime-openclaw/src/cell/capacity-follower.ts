import type { ConsolaInstance } from 'consola';

/** Options of {@link followMemoryCapacity}. */
export interface CapacityFollowerOptions {
  /** Memory for all cells, in bytes. */
  budgetBytes: number;
  /** How many cells fit a budget now (the runtime's `capacityFor`, which measures the live cells). */
  capacityFor(budgetBytes: number): Promise<number>;
  /** Applies a capacity (the manager's `setCapacity`); returns the one in force. */
  setCapacity(capacity: number): number;
  /** How often to measure (default 30 s). */
  intervalMs?: number;
  log: ConsolaInstance;
}

/**
 * Keeps the manager's capacity at what the memory budget holds at the measured per-cell memory:
 * measures once now, then every `intervalMs`. Returns a function that stops following.
 */
export function followMemoryCapacity(options: CapacityFollowerOptions): { stop(): void; update(): Promise<number> } {
  let current: number | undefined;
  let running: Promise<number> | undefined;
  const update = () => {
    running ??= options
      .capacityFor(options.budgetBytes)
      .then((wanted) => {
        const applied = options.setCapacity(wanted);
        if (applied !== current) {
          if (current !== undefined)
            options.log.info(`Cell capacity ${current} → ${applied} (memory budget ${Math.round(options.budgetBytes / 2 ** 20)} MiB).`);
          current = applied;
        }
        return applied;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(
    () => void update().catch((error: unknown) => options.log.warn('updating the cell capacity failed:', error)),
    options.intervalMs ?? 30_000,
  );
  timer.unref();
  return { stop: () => clearInterval(timer), update };
}
