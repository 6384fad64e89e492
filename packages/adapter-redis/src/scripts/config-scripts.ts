import { defineLua } from '../lua-script.js';

/**
 * A local config change with optional compare-and-set. KEYS[1] entry hash, KEYS[2] version counter;
 * ARGV ifVersion ('' = none), '1' if a config is given, config JSON, status ('' = keep), now.
 * The new version is one above the highest the tenant ever had. Returns
 * {'OK', status, config, version, updatedAt} or {'CONFLICT', currentVersion}.
 */
export const SET_CONFIG = defineLua(
  'set-config',
  `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {'CONFLICT', current} end
local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
local version = math.max(current, highest) + 1
local status = ARGV[4]
if status == '' then status = redis.call('HGET', KEYS[1], 'status') or 'active' end
local config = ARGV[3]
if ARGV[2] ~= '1' then config = redis.call('HGET', KEYS[1], 'config') or '{}' end
local text = string.format('%.0f', version)
redis.call('HSET', KEYS[1], 'status', status, 'config', config, 'version', text, 'updatedAt', ARGV[5])
redis.call('SET', KEYS[2], text)
return {'OK', status, config, text, ARGV[5]}
`,
);

/**
 * Stores an upstream entry verbatim when it is newer than the stored one. KEYS as {@link SET_CONFIG};
 * ARGV version, status, config JSON, updatedAt. Returns 1 when stored, 0 when this very version is
 * already stored, -1 when a newer one is.
 */
export const PUT_CONFIG = defineLua(
  'put-config',
  `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local version = tonumber(ARGV[1])
if current > version then return -1 end
if current == version then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'config', ARGV[3], 'version', ARGV[1], 'updatedAt', ARGV[4])
local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
if version > highest then redis.call('SET', KEYS[2], ARGV[1]) end
return 1
`,
);

/** Deletes an entry (its version counter stays). KEYS[1] entry. Returns 1 if it existed. */
export const REMOVE_CONFIG = defineLua(
  'remove-config',
  `
return redis.call('DEL', KEYS[1])
`,
);

/**
 * Records that a tenant changed, after the change itself is stored, in the tenant's shard of the feed.
 * The sequence number is taken here, at append time, so a reader that has seen sequence n can never
 * later find a change below n in this shard. It is the server's clock in microseconds (kept strictly
 * increasing), so readers can merge shards in the order changes were made.
 * KEYS[1] shard sequence, KEYS[2] shard feed; ARGV tenant, channel, shard. Returns the sequence number.
 */
export const BUMP_CONFIG_FEED = defineLua(
  'bump-config-feed',
  `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local seq = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + 1, now)
local text = string.format('%.0f', seq)
redis.call('SET', KEYS[1], text)
redis.call('ZADD', KEYS[2], text, ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ':' .. text)
return text
`,
);

/** Drops a tenant from the feed. KEYS[1] feed; ARGV tenant. */
export const UNLIST_CONFIG = defineLua(
  'unlist-config',
  `
return redis.call('ZREM', KEYS[1], ARGV[1])
`,
);

/**
 * One page of the feed as a flat {tenant, seq, …} array plus the current sequence, the same under
 * RESP2 and RESP3. KEYS[1] sequence, KEYS[2] feed; ARGV after, limit.
 */
export const READ_CONFIG_FEED = defineLua(
  'read-config-feed',
  `
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local page = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
table.insert(page, 1, string.format('%.0f', head))
return page
`,
);
