import { LRUMapWithDelete } from 'mnemonist';
import type { ConfigSource, TenantConfigEntry } from '../contracts/config-source.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** Options of {@link createCloudConfigSource}. */
export interface CloudConfigSourceOptions {
  /** The local copy that config sync keeps current; every read is served from it. */
  lastKnownGood: ConfigSource;
  /** Runs before the local copy is closed (the factory stops the sync here). */
  onClose?: () => Promise<void>;
}

/** The Cloud Backend as a config source, plus what verify answers taught it ahead of the feed. */
export interface CloudConfigSource extends ConfigSource {
  /**
   * Records the status a fresh verify answer gave a tenant, over the stored entry of version `basedOn`
   * (0: none). Reads return that status until a newer entry is stored, so a resumption (or a
   * suspension) the feed has not delivered yet takes effect at once — in memory only.
   */
  noteVerifiedStatus(tenantId: string, status: 'active' | 'suspended', basedOn: number): void;
}

/**
 * The Cloud Backend as a {@link ConfigSource}: reads come from the last-known-good copy, so a backend
 * outage (or a restart during one) never blocks an activation. Read-only: configs, suspensions and
 * deletions are changed in the backend and arrive through {@link ConfigSyncService} (or a push), which also
 * tells the manager about them; so this source offers no `watch` (the change would be applied twice).
 */
export function createCloudConfigSource(options: CloudConfigSourceOptions): CloudConfigSource {
  const lkg = options.lastKnownGood;
  if (typeof lkg?.get !== 'function') throw new MultiTenantError('CONFIG_INVALID', 'lastKnownGood: expected a config source.');
  const verified = new LRUMapWithDelete<string, { status: 'active' | 'suspended'; basedOn: number }>(10_000);
  const source: CloudConfigSource = {
    name: `cloud(${lkg.name})`,
    capabilities: { write: false, changes: lkg.capabilities.changes, watch: false, list: lkg.capabilities.list },
    async get(tenantId) {
      const entry = await lkg.get(tenantId);
      const overlay = verified.get(tenantId);
      if (overlay === undefined) return entry;
      if ((entry?.version ?? 0) !== overlay.basedOn) {
        verified.delete(tenantId);
        return entry;
      }
      if (entry?.status === overlay.status) return entry;
      if (entry === undefined && overlay.status === 'active') return undefined;
      const base: TenantConfigEntry = entry ?? { tenantId, status: 'active', config: {}, version: 0, updatedAt: 0 };
      return { ...base, status: overlay.status };
    },
    noteVerifiedStatus(tenantId, status, basedOn) {
      verified.set(tenantId, { status, basedOn });
    },
    async close() {
      await options.onClose?.();
      await lkg.close?.();
    },
  };
  if (lkg.changes) source.changes = (cursor, limit) => lkg.changes!(cursor, limit);
  if (lkg.tenants) source.tenants = () => lkg.tenants!();
  return source;
}
