/**
 * Reads a hash reply as a field map, whatever the RESP version: RESP3 maps arrive as objects (or
 * `Map`s with some type mappings), RESP2 and Lua replies as flat `[field, value, …]` arrays.
 */
export function fieldsOf(reply: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (reply === null || reply === undefined) return out;
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), String(reply[i + 1]));
    return out;
  }
  if (reply instanceof Map) {
    for (const [key, value] of reply) out.set(String(key), String(value));
    return out;
  }
  if (typeof reply === 'object') {
    for (const [key, value] of Object.entries(reply as Record<string, unknown>)) out.set(key, String(value));
  }
  return out;
}

/** An integer reply (or its string form) as a number; `fallback` for nil. */
export function integerOf(reply: unknown, fallback = 0): number {
  if (reply === null || reply === undefined) return fallback;
  const value = typeof reply === 'number' ? reply : Number(String(reply));
  return Number.isFinite(value) ? value : fallback;
}
