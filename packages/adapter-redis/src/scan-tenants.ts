import type { RedisKeys } from './keys.js';
import type { RedisConnection } from './redis-connection.js';

/**
 * Every tenant that has a `<prefix>:{<tenant>}:<suffix>` key, each once, found by SCAN (on every
 * master of a Cluster). SCAN may return a key twice, so ids already reported are skipped.
 */
export async function* scanTenants(connection: RedisConnection, keys: RedisKeys, suffix: string): AsyncGenerator<string> {
  const seen = new Set<string>();
  for await (const key of connection.scan(keys.tenantPattern(suffix))) {
    const tenantId = keys.tenantFromKey(key, suffix);
    if (tenantId !== undefined && !seen.has(tenantId)) {
      seen.add(tenantId);
      yield tenantId;
    }
  }
}
