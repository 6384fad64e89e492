import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tenantIdFromDirName, type OperatorConfig } from '@openclaw-mt/core';

/**
 * Tenant ids that have tokens in the filesystem token store, read from its per-tenant index
 * (`<tokenRoot>/tenants/<tenant dir>/`). The token contract lists only by tenant, so without this a
 * tenant that has a token but neither config nor workspace would be invisible to `users list` and
 * `migrate`. Other adapters yield nothing here.
 */
export async function* tenantsWithTokens(config: OperatorConfig): AsyncIterable<string> {
  if (config.adapter !== 'fs' || (config.enabled && config.cloudBackendUrl !== undefined)) return;
  const names = await readdir(join(config.tokenRoot, 'tenants')).catch(() => [] as string[]);
  for (const name of names) {
    const tenantId = tenantIdFromDirName(name);
    if (tenantId !== undefined) yield tenantId;
  }
}
