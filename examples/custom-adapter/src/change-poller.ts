import { createListeners } from '@openclaw-mt/core/contracts';

/** One row of a change-log table. */
export interface LoggedChange<T> {
  seq: number;
  event: T;
}

/** Options of {@link createChangePoller}. */
export interface ChangePollerOptions<T> {
  /** The highest sequence number in the log right now (0 when empty). */
  latestSeq(): number;
  /** Up to `limit` changes with `seq > after`, in ascending order. */
  readAfter(after: number, limit: number): LoggedChange<T>[];
  /** Poll period in ms. */
  intervalMs: number;
}

/** A `watch` implementation over a change-log table. */
export interface ChangePoller<T> {
  /** Subscribes from "now" on; returns an unsubscribe function. */
  watch(listener: (event: T) => void): () => void;
  /** Asks for a poll soon (after a local write), so this process's own changes arrive quickly. */
  nudge(): void;
  /** Stops polling and drops every listener. */
  close(): void;
}

const BATCH = 500;

/**
 * Implements `watch` by polling a change-log table that every writer (any process, any adapter
 * instance over the same file) appends to inside its write transaction. Because the log is shared
 * through the file, changes made by other processes are seen too, which is what makes
 * `capabilities.watch: true` honest. Events are delivered in commit (sequence) order.
 */
export function createChangePoller<T>(options: ChangePollerOptions<T>): ChangePoller<T> {
  const listeners = createListeners<T>();
  let count = 0;
  let cursor = 0;
  let timer: NodeJS.Timeout | undefined;
  let nudged = false;
  let closed = false;

  const poll = (): void => {
    if (closed || count === 0) return;
    try {
      for (;;) {
        const batch = options.readAfter(cursor, BATCH);
        for (const change of batch) {
          cursor = change.seq;
          listeners.emit(change.event);
        }
        if (batch.length < BATCH) break;
      }
    } catch {
      // A busy or closing database: try again on the next tick; the cursor has not moved past anything unseen.
    }
  };

  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return {
    watch(listener) {
      if (closed) return () => {};
      if (count === 0) {
        cursor = options.latestSeq();
        timer = setInterval(poll, options.intervalMs);
        // A watcher must never keep the process alive on its own.
        timer.unref();
      } else {
        // Deliver what is pending to the existing listeners first, so the new one starts at "now".
        poll();
      }
      count++;
      const remove = listeners.add(listener);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        remove();
        if (--count === 0) stop();
      };
    },
    nudge() {
      if (closed || count === 0 || nudged) return;
      nudged = true;
      setImmediate(() => {
        nudged = false;
        poll();
      }).unref();
    },
    close() {
      closed = true;
      stop();
      listeners.clear();
      count = 0;
    },
  };
}
