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
