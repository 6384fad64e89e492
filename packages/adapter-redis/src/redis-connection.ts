import { EventEmitter } from 'node:events';
import {
  createClient,
  createCluster,
  RESP_TYPES,
  type RedisArgument,
  type RedisClientOptions,
  type RedisClientType,
  type RedisClusterOptions,
  type RedisClusterType,
} from '@redis/client';
import { MultiTenantError } from '@openclaw-mt/core';
import { createBackoff } from '@openclaw-mt/core/helpers';
import { backendError } from './backend-error.js';
import type { LuaScript } from './lua-script.js';

// `any`: node-redis clients are generic over modules, functions, scripts, RESP version and type mapping.
// Their constraint types (RedisModules, RedisScripts, TypeMapping...) do not fit: the client type is
// invariant in them, so a client with scripts or a type mapping would no longer be accepted.
/** Any node-redis client, whatever its modules, scripts or RESP version. */
// biome-ignore lint/suspicious/noExplicitAny: node-redis client types are invariant in their generics; only `any` accepts every client.
export type AnyRedisClient = RedisClientType<any, any, any, any, any>;
/** Any node-redis Cluster client. */
// biome-ignore lint/suspicious/noExplicitAny: node-redis cluster types are invariant in their generics; only `any` accepts every cluster.
export type AnyRedisCluster = RedisClusterType<any, any, any, any, any>;

/** Where the adapter finds Redis: exactly one of `url`, `cluster` or `client`. */
export interface RedisConnectionOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` of a single server. */
  url?: string;
  /** Redis Cluster root nodes (URLs), or full node-redis cluster options. */
  cluster?: readonly string[] | RedisClusterOptions;
  /**
   * An existing node-redis client or cluster (connected or not). The adapter never closes it; it
   * duplicates it once for its pub/sub subscriber. Do not give it a `keyPrefix`: the adapter prefixes.
   */
  client?: AnyRedisClient | AnyRedisCluster;
  /** A command that gets no answer within this many ms fails with `BACKEND_UNAVAILABLE`. Default 5,000. */
  commandTimeoutMs?: number;
}

type Client = AnyRedisClient | AnyRedisCluster;
type Reply = unknown;

const STRINGS = {};
const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer };

/** Capped exponential backoff with full jitter, so a fleet does not reconnect in lockstep. */
const reconnectDelay = createBackoff({ initialMs: 50, maxMs: 2_000, minMs: 20 });

function reconnectStrategy(retries: number): number {
  return reconnectDelay(retries + 1);
}

function isCluster(client: Client): client is AnyRedisCluster {
  return typeof (client as AnyRedisCluster).nodeClient === 'function' && 'masters' in client;
}

function buildClient(options: RedisConnectionOptions): { client: Client; owned: boolean } {
  const sources = [options.url, options.cluster, options.client].filter((value) => value !== undefined);
  if (sources.length !== 1) {
    throw new MultiTenantError('CONFIG_INVALID', 'redis: pass exactly one of url, cluster (root node URLs) or client.');
  }
  if (options.client !== undefined) return { client: options.client, owned: false };
  if (options.url !== undefined) {
    const client = createClient({ url: options.url, socket: { reconnectStrategy } } as RedisClientOptions);
    return { client: client as unknown as Client, owned: true };
  }
  const cluster = options.cluster!;
  const clusterOptions: RedisClusterOptions = Array.isArray(cluster)
    ? { rootNodes: cluster.map((url) => ({ url })), defaults: { socket: { reconnectStrategy } } }
    : (cluster as RedisClusterOptions);
  if (!Array.isArray(clusterOptions.rootNodes) || clusterOptions.rootNodes.length === 0) {
    throw new MultiTenantError('CONFIG_INVALID', 'redis.cluster: expected at least one root node URL.');
  }
  return { client: createCluster(clusterOptions) as unknown as Client, owned: true };
}

/**
 * One logical connection to Redis (a single server or a Cluster) shared by the adapter's stores: a
 * command client, plus one subscriber duplicated from it on first use. It reconnects on its own
 * (node-redis `reconnectStrategy`), resubscribes, and tells followers when it is ready again so they
 * can replay what they missed. Stores `retain` it; one the adapter opened for itself closes when the
 * last store lets go, one you created with {@link createRedisConnection} stays yours to close.
 */
export class RedisConnection {
  /** Whether this is a Redis Cluster connection. */
  readonly cluster: boolean;
  readonly #client: Client;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #events = new EventEmitter();
  #connecting: Promise<void> | undefined;
  #waitingOn: Promise<void> | undefined;
  #waitUntil = 0;
  #subscribers: Promise<AnyRedisClient[] | Client[]> | undefined;
  #subscriberClients: Array<AnyRedisClient | Client> = [];
  #refs = 0;
  readonly #closeWhenUnused: boolean;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #onReady = (): void => {
    this.#events.emit('ready');
  };
  readonly #onError = (): void => {
    // Errors surface on the command that failed; node-redis also emits them here while it reconnects.
  };

  /**
   * @param internal.closeWhenUnused close once the last store that retained it lets go (connections
   *   the adapter opens for itself); connections you create yourself stay open until you close them.
   */
  constructor(options: RedisConnectionOptions, internal: { closeWhenUnused?: boolean } = {}) {
    this.#closeWhenUnused = internal.closeWhenUnused === true;
    const timeout = options.commandTimeoutMs ?? 5_000;
    if (!Number.isSafeInteger(timeout) || timeout <= 0) {
      throw new MultiTenantError('CONFIG_INVALID', 'redis.commandTimeoutMs: expected a positive integer.');
    }
    this.#timeoutMs = timeout;
    const { client, owned } = buildClient(options);
    this.#client = client;
    this.#owned = owned;
    this.cluster = isCluster(client);
    client.on('error', this.#onError);
    this.#events.setMaxListeners(0);
    // Replays need both connections: announce whichever comes back last.
    client.on(this.cluster ? 'node-ready' : 'ready', this.#onReady);
    if (owned || !client.isOpen) this.#connect();
  }

  /** Registers a user of the connection; the returned function lets go of it (idempotent). */
  retain(): () => Promise<void> {
    if (this.#closed) throw new MultiTenantError('CLOSED', 'The Redis connection is closed.');
    this.#refs++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--this.#refs === 0 && this.#closeWhenUnused) await this.close();
    };
  }

  /** Resolves once the command connection is up (it keeps retrying in the background until then). */
  async ready(): Promise<void> {
    await this.#connected();
  }

  /** Sends one command, routed by `key` on a Cluster. Failures become `BACKEND_UNAVAILABLE`. */
  async send<T = Reply>(key: string | undefined, args: readonly RedisArgument[], options: { buffers?: boolean } = {}): Promise<T> {
    try {
      return (await this.#send(key, args, options.buffers === true)) as T;
    } catch (error) {
      throw backendError(error, `run ${String(args[0])}`);
    }
  }

  /** Runs a Lua script by SHA, loading it on a `NOSCRIPT` miss. Every key must share one hash slot. */
  async run<T = Reply>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly RedisArgument[] = [],
    options: { buffers?: boolean } = {},
  ): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    const buffers = options.buffers === true;
    try {
      try {
        return (await this.#send(keys[0], ['EVALSHA', script.sha, ...tail], buffers)) as T;
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return (await this.#send(keys[0], ['EVAL', script.source, ...tail], buffers)) as T;
      }
    } catch (error) {
      throw backendError(error, `run script ${script.name}`);
    }
  }

  /** Every key matching `pattern`, by SCAN (on every master of a Cluster). Never KEYS. */
  async *scan(pattern: string, count = 500): AsyncGenerator<string> {
    let nodes: AnyRedisClient[];
    try {
      await this.#connected();
      const client = this.#client;
      nodes = isCluster(client) ? await Promise.all(client.masters.map((master) => client.nodeClient(master))) : [client];
    } catch (error) {
      throw backendError(error, 'list keys');
    }
    for (const node of nodes) {
      let cursor = '0';
      do {
        let reply: [string, string[]];
        try {
          reply = (await node.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count)], {
            timeout: this.#timeoutMs,
            typeMapping: STRINGS,
          })) as [string, string[]];
        } catch (error) {
          throw backendError(error, 'scan keys');
        }
        cursor = String(reply[0]);
        yield* reply[1];
      } while (cursor !== '0');
    }
  }

  /**
   * Subscribes `listener` to `channel` on the shared subscriber connection (created on first use).
   * Returns the unsubscribe function. Pub/sub is at-most-once: pair it with {@link onReconnect}.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    let subscribers: Array<AnyRedisClient | Client>;
    const onMessage = (message: string | Buffer): void => listener(String(message));
    try {
      subscribers = await this.#subscriberClientsReady();
      // On a Cluster every master relays every message: a subscription that holds on any one is enough,
      // and those on a master that is down take effect when it returns.
      const subscribed = subscribers.map((subscriber) => subscriber.subscribe(channel, onMessage));
      for (const attempt of subscribed) attempt.catch(() => undefined);
      await Promise.any(subscribed);
    } catch (error) {
      throw backendError(error instanceof AggregateError ? error.errors[0] : error, 'subscribe');
    }
    return async () => {
      for (const subscriber of subscribers) {
        try {
          if (subscriber.isReady) await subscriber.unsubscribe(channel, onMessage);
        } catch {
          // The subscription dies with the connection anyway.
        }
      }
    };
  }

  /**
   * Calls `listener` whenever the command connection or the subscriber (re)connects — for the
   * subscriber, after node-redis has resubscribed — so followers can replay what they missed.
   */
  onReconnect(listener: () => void): () => void {
    this.#events.on('ready', listener);
    return () => this.#events.off('ready', listener);
  }

  /** Closes the subscriber and, when the adapter created it, the command client. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#events.removeAllListeners();
    // Not awaiting #subscribers: during an outage their connect never settles.
    await Promise.all(this.#subscriberClients.map((client) => closeClient(client as Client)));
    if (this.#owned) await closeClient(this.#client);
    else {
      this.#client.off('error', this.#onError);
      this.#client.off(this.cluster ? 'node-ready' : 'ready', this.#onReady);
    }
  }

  #connect(): Promise<void> {
    const attempt = this.#client.connect().then(() => undefined);
    // Settled either way, the attempt is over: later outages are node-redis reconnects (fail fast),
    // and a failed first connect is retried by the next command (#connected).
    const done = (): void => {
      if (this.#connecting === attempt) this.#connecting = undefined;
    };
    attempt.then(done, done);
    this.#connecting = attempt;
    return attempt;
  }

  async #connected(): Promise<Client> {
    if (this.#closed) throw new MultiTenantError('CLOSED', 'The Redis connection is closed.');
    const client = this.#client;
    if (client.isReady) return client;
    const pending = this.#connecting ?? (client.isOpen ? undefined : this.#connect());
    if (pending === undefined) {
      // Open but not ready: node-redis is reconnecting. Fail fast rather than queue behind an outage.
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Redis is reconnecting; try again shortly.', { retryAfterMs: 1_000 });
    }
    // Every command waiting on one connection attempt shares one deadline: during an outage a second
    // command fails when the first does, instead of waiting a full timeout of its own.
    if (this.#waitingOn !== pending) {
      this.#waitingOn = pending;
      this.#waitUntil = Date.now() + this.#timeoutMs;
    }
    const remaining = this.#waitUntil - Date.now();
    if (remaining <= 0)
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'Redis is not reachable; try again shortly.', { retryAfterMs: 1_000 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${this.#timeoutMs} ms`)), remaining);
    });
    try {
      await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  async #send(key: string | undefined, args: readonly RedisArgument[], buffers: boolean): Promise<Reply> {
    const client = await this.#connected();
    const options = { timeout: this.#timeoutMs, typeMapping: buffers ? BUFFERS : STRINGS };
    if (isCluster(client)) return client.sendCommand(key, false, args as RedisArgument[], options);
    return client.sendCommand(args as RedisArgument[], options);
  }

  /**
   * The subscriber connections, created on first use: a duplicate of a single server's client, or on a
   * Cluster one plain connection per master. Cluster pub/sub reaches every node, so subscribing on
   * each master means losing one master does not silence announcements (one cluster-mode subscriber
   * would sit on a single node and stay there while that node is down).
   */
  #subscriberClientsReady(): Promise<Array<AnyRedisClient | Client>> {
    if (this.#closed) return Promise.reject(new MultiTenantError('CLOSED', 'The Redis connection is closed.'));
    this.#subscribers ??= (async () => {
      const client = await this.#connected();
      const duplicates: Array<AnyRedisClient | Client> = isCluster(client)
        ? (
            await Promise.all(
              client.masters.map((master) =>
                withTimeout(client.nodeClient(master), this.#timeoutMs).then(
                  (node) => node.duplicate() as AnyRedisClient,
                  () => undefined,
                ),
              ),
            )
          ).filter((node): node is AnyRedisClient => node !== undefined)
        : [client.duplicate() as Client];
      if (duplicates.length === 0) throw new MultiTenantError('BACKEND_UNAVAILABLE', 'No Redis master answered.', { retryAfterMs: 1_000 });
      this.#subscriberClients = duplicates;
      const connects = duplicates.map((subscriber) => {
        subscriber.on('error', this.#onError);
        // node-redis resubscribes before it reports ready, so a replay started here misses nothing.
        subscriber.on('ready', this.#onReady);
        return subscriber.connect();
      });
      for (const connect of connects) connect.catch(() => undefined);
      // One live subscriber is enough to start; the others connect (and subscribe) when they can.
      await withTimeout(Promise.any(connects), this.#timeoutMs);
      return duplicates;
    })();
    this.#subscribers.catch(() => {
      this.#subscribers = undefined;
      const failed = this.#subscriberClients;
      this.#subscriberClients = [];
      for (const client of failed) void closeClient(client as Client);
    });
    return this.#subscribers;
  }
}

/** `promise`, or a rejection once `ms` pass without it settling. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeClient(client: Client): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    // A graceful close waits for replies; a dead server must not hold shutdown hostage.
    await Promise.race([client.close(), new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
  } catch {
    // Closing a broken connection may fail; destroy below releases it regardless.
  } finally {
    clearTimeout(timer);
  }
  if (client.isOpen) {
    try {
      client.destroy();
    } catch {
      // Already gone.
    }
  }
}

/** Creates a {@link RedisConnection}; it starts connecting at once and retries in the background. */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  return new RedisConnection(options);
}
