import { createListeners } from '@openclaw-mt/core/contracts';
import { createBackoff } from '@openclaw-mt/core/helpers';
import type { RedisConnection } from './redis-connection.js';

/** Waits after failed replays (200 ms, doubling, at most 5 s) and failed subscriptions (from 100 ms). */
const REPLAY_RETRY = createBackoff({ initialMs: 200, maxMs: 5_000, minMs: 0, jitter: 'none' });
const SUBSCRIBE_RETRY = createBackoff({ initialMs: 100, maxMs: 5_000, minMs: 0, jitter: 'none' });

/** A durable, ordered change feed in Redis that a follower can replay from a cursor. */
export interface ChangeFeed<C, E> {
  /** Pub/sub channel on which writers announce new changes. */
  readonly channel: string;
  /** The cursor of the newest change now (where a new follower starts). */
  head(): Promise<C>;
  /** The cursor before the first change (where a follower starts when the head could not be read). */
  readonly start: C;
  /** Whether an announcement concerns this feed (several feeds may share one channel). Default: all do. */
  concerns?(message: string): boolean;
  /** Changes after `cursor`, in order, and the cursor after them. */
  read(cursor: C): Promise<{ events: E[]; cursor: C; hasMore: boolean }>;
}

/** A `watch` implementation over a {@link ChangeFeed}. */
export interface FeedFollower<E> {
  add(listener: (event: E) => void): () => void;
  /** Resolves once the starting point is fixed (retrying if Redis was unreachable). */
  ready(): Promise<void>;
  /**
   * Fixes the starting point at the feed's first change if it is not fixed yet: replaying what is
   * already known is harmless, missing what arrives once the feed is reachable again is not.
   */
  startFromBeginning(): void;
  close(): Promise<void>;
}

/** Options of {@link createFeedFollower}. */
export interface FeedFollowerOptions {
  /** Replays the feed this often even without announcements (0 disables). */
  resyncIntervalMs: number;
  onError(error: unknown): void;
  /** Called when a replay succeeds after failures. */
  onRecovered?(): void;
}

/**
 * Delivers every change of a feed to local listeners, whoever wrote it, starting from the feed's
 * head when the follower is created. Pub/sub is at-most-once, so
 * an announcement is only a wake-up call: the follower keeps its own cursor and reads the durable
 * feed from there — after each announcement, after every (re)subscription, and on a slow timer — so
 * changes made while this node was disconnected are delivered once it is back.
 */
export function createFeedFollower<C, E>(
  connection: RedisConnection,
  feed: ChangeFeed<C, E>,
  options: FeedFollowerOptions,
): FeedFollower<E> {
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
  let replayFailures = 0;
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
    replayFailures++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (current === run) poke();
    }, REPLAY_RETRY(replayFailures));
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
        if (failing) options.onRecovered?.();
        failing = false;
        replayFailures = 0;
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
  function subscribe(current: number, attempt = 1): void {
    const concerns = feed.concerns;
    const onMessage = concerns === undefined ? poke : (message: string) => (concerns(message) ? poke() : undefined);
    connection.subscribe(feed.channel, onMessage).then(
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
          if (current === run) subscribe(current, attempt + 1);
        }, SUBSCRIBE_RETRY(attempt));
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
    replayFailures = 0;
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
    startFromBeginning() {
      cursor ??= feed.start;
    },
    async close() {
      listeners.clear();
      count = 0;
      await stop();
    },
  };
}

/**
 * One follower over several shards of a feed, each followed on its own (its own cursor, retries and
 * backoff), so a shard that cannot be reached delays only its own changes.
 */
export function combineFollowers<E>(shards: readonly FeedFollower<E>[]): FeedFollower<E> {
  return {
    add(listener) {
      const removers = shards.map((shard) => shard.add(listener));
      return () => {
        for (const remove of removers) remove();
      };
    },
    async ready() {
      const results = await Promise.allSettled(shards.map((shard) => shard.ready()));
      const failed = results.flatMap((result, i) => (result.status === 'rejected' ? [{ i, reason: result.reason as unknown }] : []));
      // Nothing answered: Redis is down, not one shard.
      if (failed.length === shards.length) throw failed[0]!.reason;
      for (const { i } of failed) shards[i]!.startFromBeginning();
    },
    startFromBeginning() {
      for (const shard of shards) shard.startFromBeginning();
    },
    async close() {
      await Promise.all(shards.map((shard) => shard.close()));
    },
  };
}

/**
 * Error reporting for the shards of one feed: one warning per outage, however many shards it hits,
 * and again only after every shard recovered.
 */
export function shardOutageReporter(
  warn: (error: unknown) => void,
): (shard: number) => Pick<FeedFollowerOptions, 'onError' | 'onRecovered'> {
  const failing = new Set<number>();
  return (shard) => ({
    onError(error) {
      if (failing.size === 0) warn(error);
      failing.add(shard);
    },
    onRecovered() {
      failing.delete(shard);
    },
  });
}
