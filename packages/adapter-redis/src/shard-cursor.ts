import { MultiTenantError } from '@openclaw-mt/core';
import { FEED_SHARDS } from './feed-shards.js';

/** A position in a sharded feed: the last sequence seen in each shard. */
export type ShardCursor = number[];

/** The cursor before every change. */
export function firstShardCursor(): ShardCursor {
  return Array.from({ length: FEED_SHARDS }, () => 0);
}

/** The opaque text form: each shard's position in base 36, joined by dots. */
export function encodeShardCursor(cursor: ShardCursor): string {
  return cursor.map((value) => value.toString(36)).join('.');
}

/**
 * Reads a cursor this source returned. No cursor starts at the beginning, and so does a plain number
 * (the cursor of an unsharded feed: replaying everything once is safe, skipping is not). Anything
 * else is `BAD_REQUEST`.
 */
export function parseShardCursor(text: string | undefined): ShardCursor {
  if (text === undefined || text === '' || /^\d{1,15}$/.test(text)) return firstShardCursor();
  const parts = text.split('.');
  const values = parts.map((part) => (/^[0-9a-z]{1,11}$/.test(part) ? Number.parseInt(part, 36) : Number.NaN));
  if (parts.length !== FEED_SHARDS || values.some((value) => !Number.isSafeInteger(value))) {
    throw new MultiTenantError('BAD_REQUEST', 'Invalid change cursor: pass back a cursor this source returned.');
  }
  return values;
}
