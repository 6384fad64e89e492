import { defineLua } from '../lua-script.js';

/**
 * Claims a tenant: when no other node holds it, takes the next fence and sets the lease, in one
 * step (SET PX + INCR). A node re-claiming its own lease gets a new fence (its older claim turns
 * stale). KEYS[1] lease, KEYS[2] fence; ARGV owner, ttl ms.
 * Returns {1, fence} or {0, holder, remaining ms, lease value}.
 */
export const CLAIM_LEASE = defineLua(
  'claim-lease',
  `
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, ':', 1, true)
  local holder = string.sub(current, sep + 1)
  if holder ~= ARGV[1] then return {0, holder, redis.call('PTTL', KEYS[1]), current} end
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], string.format('%.0f', fence) .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, fence}
`,
);

/** Extends a lease only while it is still this claim's. KEYS[1] lease; ARGV value, ttl ms. */
export const RENEW_LEASE = defineLua(
  'renew-lease',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** Compare-and-delete: releases a lease only while it is still this claim's. KEYS[1] lease; ARGV value. */
export const RELEASE_LEASE = defineLua(
  'release-lease',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/**
 * Takes over a lease from a node that stopped heartbeating: only while the lease still holds exactly
 * the value seen (so a renewal or release in between wins), with a new fence so the dead node's late
 * writes are refused. KEYS[1] lease, KEYS[2] fence; ARGV seen value, owner, ttl ms. Returns {1, fence} or {0}.
 */
export const TAKE_OVER_LEASE = defineLua(
  'take-over-lease',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], string.format('%.0f', fence) .. ':' .. ARGV[2], 'PX', ARGV[3])
return {1, fence}
`,
);
