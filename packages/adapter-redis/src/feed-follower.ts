import { createListeners } from '@openclaw-mt/core';
import type { RedisConnection } from './redis-connection.js';

/** A durable, ordered change feed in Redis that a follower can replay from a cursor. */
export interface ChangeFeed<C, E> {
  /** Pub/sub channel on which writers announce new changes. */
  readonly channel: string;
  /** The cursor of the newest change now (where a new follower starts). */
  head(): Promise<C>;
  /** Changes after `cursor`, in order, and the cursor after them. */
  read(cursor: C): Promise<{ events: E[]; cursor: C; hasMore: boolean }>;
}

/** A `watch` implementation over a {@link ChangeFeed}. */
export interface FeedFollower<E> {
  add(listener: (event: E) => void): () => void;
  /** Resolves once the starting point is fixed (retrying if Redis was unreachable). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link createFeedFollower}. */
export interface FeedFollowerOptions {
  /** Replays the feed this often even without announcements (0 disables). */
  resyncIntervalMs: number;
  onError(error: unknown): void;
}

/**
 * Delivers every change of a feed to local listeners, whoever wrote it, starting from the feed's
 * head when the follower is created. Pub/sub is at-most-once, so
 * an announcement is only a wake-up call: the follower keeps its own cursor and reads the durable
 * feed from there — after each announcement, after every (re)subscription, and on a slow timer — so
 * changes made while this node was disconnected are delivered once it is back.
 */
export function createFeedFollower<C, E>(connection: RedisConnection, feed: ChangeFeed<C, E>, options: FeedFollowerOptions): FeedFollower<E> {
  const listeners = createListeners<E>();
  let count = 0;
  /** Bumped on every start and stop, so work from an earlier run never reaches listeners. */
  let run = 0;
  let cursor: C | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let unreconnect: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let pulling: Promise<void> | undefined;
  let again = false;
  let failing = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = 100;
  let subscribeRetry: NodeJS.Timeout | undefined;

  async function pull(current: number): Promise<void> {
    if (cursor === undefined) {
      const head = await feed.head();
      if (current !== run) return;
      cursor ??= head;
    }
    for (;;) {
      const page = await feed.read(cursor!);
      if (current !== run) return;
      cursor = page.cursor;
      for (const event of page.events) listeners.emit(event);
      if (!page.hasMore) return;
    }
  }

  /** After a failed replay, tries again with capped backoff until one succeeds. */
  function retry(current: number): void {
    if (retryTimer !== undefined) return;
    retryDelay = Math.min(5_000, retryDelay * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (current === run) poke();
    }, retryDelay);
    retryTimer.unref();
  }

  /** Single-flight replay: a poke during a pull schedules exactly one more pull. */
  function poke(): void {
    if (count === 0) return;
    if (pulling) {
      again = true;
      return;
    }
    const current = run;
    pulling = pull(current)
      .then(() => {
        failing = false;
        retryDelay = 100;
      })
      .catch((error) => {
        if (current !== run) return;
        // Once per outage, not once per retry.
        if (!failing) options.onError(error);
        failing = true;
        retry(current);
      })
      .finally(() => {
        pulling = undefined;
        if (again) {
          again = false;
          poke();
        }
      });
  }

  /** Subscribes, retrying with capped backoff while Redis is unreachable. */
  function subscribe(current: number, delayMs = 100): void {
    connection.subscribe(feed.channel, poke).then(
      (stop) => {
        if (current !== run) return void stop();
        unsubscribe = stop;
        // Anything written between the first read and the subscription taking effect is read now.
        poke();
      },
      (error) => {
        if (current !== run) return;
        if (!failing) options.onError(error);
        failing = true;
        const timeout = setTimeout(() => {
          subscribeRetry = undefined;
          if (current === run) subscribe(current, Math.min(5_000, delayMs * 2));
        }, delayMs);
        timeout.unref();
        subscribeRetry = timeout;
      },
    );
  }

  function start(): void {
    const current = ++run;
    poke();
    unreconnect = connection.onReconnect(poke);
    subscribe(current);
    if (options.resyncIntervalMs > 0) {
      timer = setInterval(poke, options.resyncIntervalMs);
      timer.unref();
    }
  }

  async function stop(): Promise<void> {
    // The cursor stays: a later watcher resumes where this one stopped, missing nothing in between.
    run++;
    again = false;
    if (timer) clearInterval(timer);
    timer = undefined;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    if (subscribeRetry) clearTimeout(subscribeRetry);
    subscribeRetry = undefined;
    failing = false;
    retryDelay = 100;
    unreconnect?.();
    unreconnect = undefined;
    const stopping = unsubscribe;
    unsubscribe = undefined;
    await stopping?.();
  }

  // Where watching starts is fixed when the store is created, not when `watch` is first called
  // (which returns before any round trip): once `ready()` resolves, no later change is missed.
  let primed: Promise<void> | undefined;
  function prime(): Promise<void> {
    primed ??= feed.head().then((head) => {
      cursor ??= head;
    });
    primed.catch(() => {
      primed = undefined;
    });
    return primed;
  }
  void prime().catch(() => undefined);

  return {
    add(listener) {
      const remove = listeners.add(listener);
      if (++count === 1) start();
      let removed = false;
      return () => {
        if (removed) return;
        removed = true;
        remove();
        if (--count === 0) void stop();
      };
    },
    ready() {
      return cursor === undefined ? prime() : Promise.resolve();
    },
    async close() {
      listeners.clear();
      count = 0;
      await stop();
    },
  };
}
