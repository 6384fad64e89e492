import type { TenantConfig } from '../contracts/config-source.js';
import type { WorkspaceHandle } from '../contracts/workspace-store.js';

/**
 * A tenant in use. While any lease is open the tenant is pinned: it is never evicted by the LRU or
 * the idle timer. Release every lease exactly once (extra calls are ignored).
 */
export interface Lease {
  readonly tenantId: string;
  /** The tenant's open workspace. */
  readonly workspace: WorkspaceHandle;
  /** The tenant's config merged over the operator's defaults and validated; follows live updates. */
  readonly config: TenantConfig;
  /** Version of `config` in its source. */
  readonly configVersion: number;
  /** Whether `release` was called. */
  readonly released: boolean;
  /** Unpins the tenant. */
  release(): void;
}
