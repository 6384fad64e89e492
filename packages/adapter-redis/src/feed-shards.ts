/**
 * How many shards each fleet-wide feed (token events, config changes, audit log) is split into. Every
 * node of a fleet must agree on it, so it is a constant, not an option.
 */
export const FEED_SHARDS = 16;

/** Redis Cluster has 16384 hash slots; shard `i` owns the tenants whose slot falls in block `i`. */
const SLOTS = 16_384;
const BLOCK = SLOTS / FEED_SHARDS;

/** CRC16/XMODEM, the checksum Redis Cluster maps keys to slots with. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Cluster slot of a hash tag's content (what is between the braces). */
export function slotOfTag(tag: string): number {
  return crc16(tag) % SLOTS;
}

/**
 * The hash tag content of each shard: `_feed<i>` with a suffix chosen so that its slot lies in block
 * `i` of the slot space. Shards so spread over every master however the slots are split into ranges,
 * and a tenant's shard usually sits on the same master as the tenant's own keys. Deterministic: every
 * node computes the same tags.
 */
export const SHARD_TAGS: readonly string[] = Array.from({ length: FEED_SHARDS }, (_, shard) => {
  for (let suffix = 0; ; suffix++) {
    const tag = `_feed${shard}-${suffix}`;
    if (Math.floor(slotOfTag(tag) / BLOCK) === shard) return tag;
  }
});

/** The feed shard that carries a tenant's changes (all of one tenant's changes stay in one shard, in order). */
export function shardOfTenant(tenantId: string): number {
  return Math.floor(slotOfTag(tenantId) / BLOCK);
}

/**
 * Whether an announcement (`<shard>:<position>`) concerns a shard. One that names no shard concerns
 * every shard, so each looks.
 */
export function announcementConcerns(message: string, shard: number): boolean {
  const colon = message.indexOf(':');
  if (colon < 1) return true;
  const named = Number(message.slice(0, colon));
  return !Number.isInteger(named) || named === shard;
}
