import type { ConfigSource } from '../contracts/config-source.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** Options of {@link createCloudConfigSource}. */
export interface CloudConfigSourceOptions {
  /** The local copy that config sync keeps current; every read is served from it. */
  lastKnownGood: ConfigSource;
  /** Runs before the local copy is closed (the factory stops the sync here). */
  onClose?: () => Promise<void>;
}

/**
 * The Cloud Backend as a {@link ConfigSource}: reads come from the last-known-good copy, so a backend
 * outage (or a restart during one) never blocks an activation. Read-only: configs, suspensions and
 * deletions are changed in the backend and arrive through {@link ConfigSyncService}, which also tells
 * the manager about them; so this source offers no `watch` (the change would be applied twice).
 */
export function createCloudConfigSource(options: CloudConfigSourceOptions): ConfigSource {
  const lkg = options.lastKnownGood;
  if (typeof lkg?.get !== 'function') throw new MultiTenantError('CONFIG_INVALID', 'lastKnownGood: expected a config source.');
  const source: ConfigSource = {
    name: `cloud(${lkg.name})`,
    capabilities: { write: false, changes: lkg.capabilities.changes, watch: false, list: lkg.capabilities.list },
    get: (tenantId) => lkg.get(tenantId),
    async close() {
      await options.onClose?.();
      await lkg.close?.();
    },
  };
  if (lkg.changes) source.changes = (cursor, limit) => lkg.changes!(cursor, limit);
  if (lkg.tenants) source.tenants = () => lkg.tenants!();
  return source;
}
