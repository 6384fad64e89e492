import { defineLua } from '../lua-script.js';

/**
 * Stores a new token record unless its hash exists. KEYS[1] record; ARGV[1] absolute expiry (ms) or
 * ''; ARGV[2..] field/value pairs. Returns 1 when stored, 0 on a conflict.
 */
export const CREATE_TOKEN = defineLua(
  'create-token',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if ARGV[1] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1
`,
);

/** Marks a record revoked. KEYS[1] record. Returns its fields, or an empty array when unknown. */
export const REVOKE_TOKEN = defineLua(
  'revoke-token',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], 'status', 'revoked')
return redis.call('HGETALL', KEYS[1])
`,
);

/**
 * The old half of a rotation, atomic on the old record: checks it is active and the successor's
 * tenant's, limits its life to the grace period and points it at the successor.
 * KEYS[1] old record; ARGV tenantId, successor hash, graceUntil, retention ms.
 * Returns {'OK', fields…} or {code}.
 */
export const ROTATE_TOKEN = defineLua(
  'rotate-token',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return {'TOKEN_REVOKED'} end
if redis.call('HGET', KEYS[1], 'tenantId') ~= ARGV[1] then return {'BAD_REQUEST'} end
local expires = tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', KEYS[1], 'expiresAt') or '')
if current and current < expires then expires = current end
redis.call('HSET', KEYS[1], 'expiresAt', string.format('%.0f', expires), 'rotatedTo', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', expires + tonumber(ARGV[4])))
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'OK')
return out
`,
);

/**
 * Appends token events to one shard of the replay stream and announces them as `<shard>:<id>`.
 * KEYS[1] stream shard; ARGV[1] approximate length kept, ARGV[2] channel, ARGV[3] shard, then
 * (type, hash, tenant) triples. Returns the last entry id.
 */
export const APPEND_TOKEN_EVENTS = defineLua(
  'append-token-events',
  `
local id = ''
for i = 4, #ARGV, 3 do
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[i], 'hash', ARGV[i + 1], 'tenant', ARGV[i + 2])
end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ':' .. id)
return id
`,
);

/** A tenant's token index with its scores, as a flat {hash, indexedAt, …} array under RESP2 and RESP3. */
export const LIST_TOKEN_INDEX = defineLua(
  'list-token-index',
  `
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`,
);
