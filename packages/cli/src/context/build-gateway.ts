import {
  createLogger,
  managerSettingsFromConfig,
  Monitor,
  TenantManager,
  type LoadedConfig,
} from '@openclaw-mt/core';
import {
  createAdminServer,
  createGateway,
  createGatewayMetrics,
  createOpenClawRuntime,
  createWorkspaceRuntime,
  openClawRuntimeOptionsFromSettings,
  gatewayOptionsFromSettings,
  parseAdminSettings,
  parseGatewaySettings,
  type AdminServer,
  type Gateway,
  type TenantRuntime,
} from '@openclaw-mt/gateway';
import { advertiseAdminUrl, ensureAdminToken } from './admin-token.js';
import { openStores, type OpenedStores } from './open-stores.js';

/** Command-line overrides of the config's gateway settings. */
export interface GatewayOverrides {
  bind?: string;
  port?: number;
  /** Tenant runtime, overriding `multiTenant.gateway.runtime`. */
  runtime?: 'workspace' | 'openclaw';
  /** Port of the admin endpoint (0 picks a free one). */
  adminPort?: number;
}

/** A gateway composed from the operator config: stores → manager → runtime → front door, plus operations. */
export interface BuiltGateway {
  gateway: Gateway;
  stores: OpenedStores;
  runtimeName: string;
  monitor: Monitor | undefined;
  /** The admin endpoint (metrics, stats, evictions), unless disabled. */
  admin: AdminServer | undefined;
  /** Starts the front door and the admin endpoint; resolves with their URLs. */
  listen(): Promise<{ url: string; adminUrl: string | undefined }>;
  /** Stops everything in order. */
  stop(reason?: string): Promise<void>;
}

/** Builds (but does not start) the gateway the operator config describes. */
export async function buildGateway(loaded: LoadedConfig, overrides: GatewayOverrides = {}): Promise<BuiltGateway> {
  const { config } = loaded;
  const settings = parseGatewaySettings(config.gateway);
  const runtimeName = overrides.runtime ?? settings.runtime;
  const logger = createLogger({ tag: 'openclaw-mt', secrets: config.serviceToken ? [config.serviceToken] : [] });
  // Built before the stores open, so a missing OpenClaw install fails fast and touches nothing.
  let runtime: TenantRuntime;
  let capacity: number | undefined;
  if (runtimeName === 'openclaw') {
    const fromSettings = openClawRuntimeOptionsFromSettings(settings.openclaw ?? {});
    runtime = createOpenClawRuntime({ ...fromSettings.options, logger: logger.withTag('openclaw') });
    capacity = fromSettings.capacity;
  } else {
    runtime = createWorkspaceRuntime();
  }
  const stores = await openStores(config);
  const manager = new TenantManager({
    tokens: stores.tokens,
    configs: stores.configs,
    workspaces: stores.workspaces,
    ...(stores.coordinator ? { coordinator: stores.coordinator } : {}),
    ...managerSettingsFromConfig(config),
    // A memory budget for OpenClaw cells, when set, bounds how many tenants may be active at once.
    ...(capacity === undefined ? {} : { capacity: Math.min(capacity, config.maxCachedUsers) }),
    logger,
  });
  // The observer must exist before the gateway; the metrics read the gateway once it does.
  let connections = () => 0;
  const monitor = config.monitor.enabled ? new Monitor({ manager, intervalMs: config.monitor.intervalMs, logger: logger.withTag('monitor') }) : undefined;
  const metrics = createGatewayMetrics({ manager, connections: () => connections(), ...(stores.cloud ? { sync: stores.cloud.sync } : {}), ...(monitor ? { monitor } : {}) });
  const gateway = createGateway({
    ...gatewayOptionsFromSettings(settings),
    ...(overrides.bind === undefined ? {} : { host: overrides.bind }),
    ...(overrides.port === undefined ? {} : { port: overrides.port }),
    manager,
    runtime,
    observer: metrics.observer,
    logger,
  });
  connections = () => gateway.connectionCount();
  const adminSettings = parseAdminSettings(config.admin);
  const admin = adminSettings.enabled
    ? createAdminServer({
        gateway,
        metrics,
        token: await ensureAdminToken(adminSettings, config),
        host: adminSettings.bind,
        port: overrides.adminPort ?? adminSettings.port,
        ...(stores.cloud ? { sync: stores.cloud.sync } : {}),
        ...(monitor ? { monitor } : {}),
        ...(stores.audit ? { audit: stores.audit } : {}),
      })
    : undefined;
  if (stores.cloud !== undefined) {
    // The first sync runs before we listen, so configs and suspensions are current from the start;
    // if the backend is down, the last-known-good copy serves and sync retries with backoff.
    const { first } = await stores.cloud.attach(manager);
    if (first !== undefined && !first.ok) logger.warn(`Initial config sync failed; serving last-known-good configs: ${first.error?.message ?? 'unknown error'}`);
  }
  let unadvertise: (() => Promise<void>) | undefined;
  return {
    gateway,
    stores,
    runtimeName,
    monitor,
    admin,
    async listen() {
      const { url } = await gateway.listen();
      const adminUrl = admin === undefined ? undefined : (await admin.listen()).url;
      if (adminUrl !== undefined) unadvertise = await advertiseAdminUrl(config, adminUrl);
      monitor?.start();
      return { url, adminUrl };
    },
    async stop(reason) {
      monitor?.stop();
      await unadvertise?.();
      await admin?.close();
      await gateway.close(reason);
      metrics.close();
    },
  };
}
