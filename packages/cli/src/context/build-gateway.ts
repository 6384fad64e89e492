import {
  createLogger,
  managerSettingsFromConfig,
  TenantManager,
  type LoadedConfig,
} from '@openclaw-mt/core';
import {
  createGateway,
  createWorkspaceRuntime,
  gatewayOptionsFromSettings,
  parseGatewaySettings,
  type Gateway,
} from '@openclaw-mt/gateway';
import { MultiTenantError } from '@openclaw-mt/core';
import { openStores, type OpenedStores } from './open-stores.js';

/** Command-line overrides of the config's gateway settings. */
export interface GatewayOverrides {
  bind?: string;
  port?: number;
}

/** A gateway composed from the operator config: stores → manager → runtime → front door. */
export interface BuiltGateway {
  gateway: Gateway;
  stores: OpenedStores;
  runtimeName: string;
  /** Stops everything in order. */
  stop(reason?: string): Promise<void>;
}

/** Builds (but does not start) the gateway the operator config describes. */
export async function buildGateway(loaded: LoadedConfig, overrides: GatewayOverrides = {}): Promise<BuiltGateway> {
  const { config } = loaded;
  const settings = parseGatewaySettings(config.gateway);
  if (settings.runtime !== 'workspace') {
    throw new MultiTenantError('CONFIG_INVALID', `multiTenant.gateway.runtime: "${settings.runtime}" is not available in this build.`);
  }
  const stores = await openStores(config);
  const logger = createLogger({ tag: 'openclaw-mt', secrets: config.serviceToken ? [config.serviceToken] : [] });
  const manager = new TenantManager({
    tokens: stores.tokens,
    configs: stores.configs,
    workspaces: stores.workspaces,
    ...(stores.coordinator ? { coordinator: stores.coordinator } : {}),
    ...managerSettingsFromConfig(config),
    logger,
  });
  const gateway = createGateway({
    ...gatewayOptionsFromSettings(settings),
    ...(overrides.bind === undefined ? {} : { host: overrides.bind }),
    ...(overrides.port === undefined ? {} : { port: overrides.port }),
    manager,
    runtime: createWorkspaceRuntime(),
    logger,
  });
  if (stores.cloud !== undefined) {
    // The first sync runs before we listen, so configs and suspensions are current from the start;
    // if the backend is down, the last-known-good copy serves and sync retries with backoff.
    const { first } = await stores.cloud.attach(manager);
    if (first !== undefined && !first.ok) logger.warn(`Initial config sync failed; serving last-known-good configs: ${first.error?.message ?? 'unknown error'}`);
  }
  return {
    gateway,
    stores,
    runtimeName: settings.runtime,
    async stop(reason) {
      await gateway.close(reason);
    },
  };
}
