import type { TokenRecord } from '../contracts/token-store.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import {
  archiveFile,
  assertTenantArchive,
  TENANT_ARCHIVE_FORMAT,
  TENANT_ARCHIVE_VERSION,
  type TenantArchive,
  type TenantArchiveFile,
} from './tenant-archive.js';
import type { TransferStores } from './transfer-stores.js';

/** Options of {@link exportTenant}. */
export interface ExportTenantOptions {
  now?: () => number;
}

/** A tenant's token records, or `null` when the store cannot list them. */
export async function tenantTokenRecords(stores: Pick<TransferStores, 'tokens'>, tenantId: string): Promise<TokenRecord[] | null> {
  const { tokens } = stores;
  if (tokens.listByTenant === undefined || !tokens.capabilities.list) return null;
  return tokens.listByTenant(tenantId);
}

/**
 * Reads one tenant — workspace files, config entry, token records (hashes only) — into an archive.
 * The workspace is only opened when it exists, so exporting never creates one. For a consistent
 * snapshot, export a tenant that is not active (evict it first). Throws `TENANT_UNKNOWN` when the
 * stores hold nothing of the tenant.
 */
export async function exportTenant(stores: TransferStores, tenantId: string, options: ExportTenantOptions = {}): Promise<TenantArchive> {
  assertTenantId(tenantId);
  const [config, tokens, hasWorkspace] = await Promise.all([
    stores.configs.get(tenantId),
    tenantTokenRecords(stores, tenantId),
    stores.workspaces.exists(tenantId),
  ]);
  if (config === undefined && !hasWorkspace && (tokens === null || tokens.length === 0)) {
    throw new MultiTenantError('TENANT_UNKNOWN', `The stores hold nothing of ${tenantId}.`, { details: { tenantId } });
  }
  let files: TenantArchiveFile[] | undefined;
  if (hasWorkspace) {
    const handle = await stores.workspaces.open(tenantId);
    try {
      files = [];
      for (const info of await handle.list()) files.push(archiveFile(info.name, await handle.read(info.name)));
    } finally {
      await handle.close();
    }
    files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return assertTenantArchive({
    format: TENANT_ARCHIVE_FORMAT,
    version: TENANT_ARCHIVE_VERSION,
    tenantId,
    exportedAt: (options.now ?? Date.now)(),
    config: config ?? null,
    tokens,
    workspace: files === undefined ? null : { files },
  } satisfies TenantArchive);
}
