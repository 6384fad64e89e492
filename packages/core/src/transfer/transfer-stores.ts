import type { ConfigSource } from '../contracts/config-source.js';
import type { Coordinator } from '../contracts/coordinator.js';
import type { TokenStore } from '../contracts/token-store.js';
import type { WorkspaceStore } from '../contracts/workspace-store.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { isValidTenantId } from '../tenants/tenant-id.js';

/**
 * The stores a tenant moves between. With a `coordinator`, writes to a tenant's workspace happen under
 * a claim, so an import never races a gateway node that has the tenant active (it fails with
 * `LEASE_HELD` instead: evict the tenant first).
 */
export interface TransferStores {
  tokens: TokenStore;
  configs: ConfigSource;
  workspaces: WorkspaceStore;
  coordinator?: Coordinator;
}

/**
 * Every tenant id the stores can name — configs ∪ workspaces ∪ tokens (when the token store can
 * list) ∪ `extra` — sorted. Throws `NOT_SUPPORTED` when neither configs nor workspaces can list.
 */
export async function listStoredTenants(
  stores: Pick<TransferStores, 'configs' | 'workspaces'> & { tokens?: TokenStore },
  extra?: AsyncIterable<string> | Iterable<string>,
): Promise<string[]> {
  const ids = new Set<string>();
  const sources: Array<AsyncIterable<string> | Iterable<string>> = [];
  if (stores.configs.tenants && stores.configs.capabilities.list) sources.push(stores.configs.tenants());
  if (stores.workspaces.tenants && stores.workspaces.capabilities.list) sources.push(stores.workspaces.tenants());
  if (sources.length === 0) {
    throw new MultiTenantError(
      'NOT_SUPPORTED',
      `Neither config source "${stores.configs.name}" nor workspace store "${stores.workspaces.name}" can list tenants.`,
    );
  }
  if (stores.tokens?.tenants && stores.tokens.capabilities.list) sources.push(stores.tokens.tenants());
  if (extra !== undefined) sources.push(extra);
  for (const source of sources) for await (const id of source) if (isValidTenantId(id)) ids.add(id);
  return [...ids].sort();
}
