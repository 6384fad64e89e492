/**
 * Runs async critical sections one at a time per key, in call order (FIFO), forgetting keys with
 * nothing queued. Serialises work on one file or tenant inside this process; other processes are kept
 * out by file locks. Never nest two runs of one key: the inner one would wait for the outer forever.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task on `key` has settled; settles as `task` does. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    try {
      await previous;
      return await task();
    } finally {
      release();
      // Drop the entry once nobody queued behind us, so the map does not grow with every key ever used.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Whether a task runs or waits on `key` right now (a new `run` would wait). */
  isBusy(key: string): boolean {
    return this.#tails.has(key);
  }
}
