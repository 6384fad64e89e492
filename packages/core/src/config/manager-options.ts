import type { TenantManagerOptions } from '../lifecycle/tenant-manager.js';
import type { TokenFormatName } from '../tokens/token-formats.js';
import type { MultiTenantConfig } from './operator-config.js';

/** The tenant id every request resolves to in single-user mode (`enabled: false`). */
export const SINGLE_TENANT_ID = 'default';

/** Manager settings taken from the operator config; the host adds the stores. */
export type ManagerSettings = Omit<TenantManagerOptions, 'tokens' | 'configs' | 'workspaces' | 'coordinator'>;

/** Maps the `multiTenant` block to {@link TenantManagerOptions} (everything but the stores). */
export function managerSettingsFromConfig(config: MultiTenantConfig): ManagerSettings {
  return {
    capacity: config.maxCachedUsers,
    idleTimeoutMs: config.userIdleTimeoutMs,
    peppers: config.peppers,
    defaults: config.defaults as TenantManagerOptions['defaults'] & object,
    whenFull: config.whenFull,
    queue: config.queue,
    authCache: config.authCache,
    rotationGraceMs: config.rotationGraceMs,
    tokenFormats: effectiveTokenFormats(config),
    ...(config.enabled ? {} : { singleTenant: SINGLE_TENANT_ID }),
  };
}

/**
 * The token formats a gateway accepts: `tokenFormats` when set, else `gt` — plus the fork's `gw` tokens when
 * the Cloud Backend speaks the `fba` dialect (its tokens must reach it to be verified).
 */
export function effectiveTokenFormats(config: Pick<MultiTenantConfig, 'tokenFormats' | 'cloud'>): TokenFormatName[] {
  if (config.tokenFormats !== undefined) return [...new Set(config.tokenFormats)];
  return config.cloud?.dialect === 'fba' ? ['gt', 'gw'] : ['gt'];
}
