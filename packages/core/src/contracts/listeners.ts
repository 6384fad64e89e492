/** A small set of change listeners; a throwing listener never stops the others. */
export interface Listeners<T> {
  add(listener: (event: T) => void): () => void;
  emit(event: T): void;
  clear(): void;
}

/** Creates a {@link Listeners} set. Adapters use it to implement `watch`. */
export function createListeners<T>(): Listeners<T> {
  const set = new Set<(event: T) => void>();
  return {
    add(listener) {
      set.add(listener);
      return () => set.delete(listener);
    },
    emit(event) {
      for (const listener of set) {
        try {
          listener(event);
        } catch {
          // A listener's failure is its own; the store's state is already committed.
        }
      }
    },
    clear() {
      set.clear();
    },
  };
}

/**
 * A view of a shared {@link Listeners} set for one store instance: its `add` is a store's `watch`,
 * and `clear` removes only the listeners added through this view (a store's `close`), leaving other
 * instances on the same set alone.
 */
export function scopedListeners<T>(shared: Listeners<T>): Pick<Listeners<T>, 'add' | 'clear'> {
  const own = new Set<() => void>();
  return {
    add(listener) {
      const remove = shared.add(listener);
      own.add(remove);
      return () => {
        own.delete(remove);
        remove();
      };
    },
    clear() {
      for (const remove of own) remove();
      own.clear();
    },
  };
}
