import { MultiTenantError } from '@openclaw-mt/core';
import { RedisKeys } from './keys.js';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.js';

/** Where a warning goes (a consola instance fits). Never given a token. */
export interface RedisLogger {
  warn(message: string, ...args: unknown[]): void;
}

/**
 * Options every Redis store takes: a key prefix, and either a shared {@link RedisConnection} or the
 * means to open its own (`url`, `cluster` or `client`).
 */
export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key and channel (`<prefix>:{<tenant>}:…`). Letters, digits, `.`, `_`, `-`, `:`. */
  prefix: string;
  /** A connection shared with other stores (as `createRedisAdapter` does). */
  connection?: RedisConnection;
  /** Where background failures (replay, renewal) are reported. Default: a consola logger. */
  logger?: RedisLogger;
}

/** What a store keeps from {@link RedisStoreOptions}. */
export interface StoreBase {
  keys: RedisKeys;
  connection: RedisConnection;
  /** Lets go of the connection (closing it when this store opened it). */
  release: () => Promise<void>;
}

/** Validates the prefix and retains (or opens) the connection. */
export function openStore(options: RedisStoreOptions): StoreBase {
  if (options === null || typeof options !== 'object')
    throw new MultiTenantError('CONFIG_INVALID', 'Redis store options must be an object.');
  const keys = new RedisKeys(options.prefix);
  const connection = options.connection ?? new RedisConnection(options, { closeWhenUnused: true });
  return { keys, connection, release: connection.retain() };
}

/** Checks an optional non-negative integer option. */
export function integerOption(value: number | undefined, fallback: number, key: string, min = 0): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min) {
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected an integer of at least ${min}, got ${String(value)}.`);
  }
  return resolved;
}
