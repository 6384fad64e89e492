import { join } from 'node:path';
import {
  createLogger,
  isMultiTenantError,
  managerSettingsFromConfig,
  MultiTenantError,
  TenantManager,
  type LoadedConfig,
} from '@openclaw-mt/core';
import { builtinRules, Monitor } from '@openclaw-mt/core/monitor';
import { createAdminServer, createGatewayMetrics, type AdminServer } from '@openclaw-mt/gateway/admin';
import {
  createCloudPushRoute,
  createGateway,
  createWorkspaceRuntime,
  type Gateway,
  type TenantHttpRoute,
  type TenantRuntime,
} from '@openclaw-mt/gateway';
import { gatewayOptionsFromSettings, parseAdminSettings, parseGatewaySettings } from '@openclaw-mt/gateway/config';
import {
  controlUiDirectory,
  createControlUiRoute,
  createHttpApiRoute,
  createOpenClawRuntime,
  followMemoryCapacity,
  loadBridgeDevice,
  openClawRuntimeOptionsFromSettings,
  parseOpenClawRuntimeSettings,
  type OpenClawRuntime,
} from '@openclaw-mt/runtime-openclaw';
import { advertiseAdminUrl, ensureAdminToken } from './admin-token.js';
import { backendFindings } from './backend-findings.js';
import { modelEndpoint, type ModelEndpoint } from './model-endpoint.js';
import { openStores, type OpenedStores } from './open-stores.js';

/** The front door's device key towards its OpenClaw gateways, under `dataDir` (0600). */
const BRIDGE_DEVICE_FILE = 'openclaw-bridge-device.pem';

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
  /** What the operator should know about the Cloud Backend setup (plain http, the fork's dialect). */
  warnings: string[];
  /** Path on the gateway's port where the Cloud Backend pushes events, when pushes are configured. */
  pushPath: string | undefined;
  /** Whether the gateway's port serves OpenClaw's Control UI (at `/`). */
  servesControlUi: boolean;
  /** Starts the front door and the admin endpoint; resolves with their URLs (and the internal fleet URL). */
  listen(): Promise<{ url: string; adminUrl: string | undefined; fleetUrl: string | undefined }>;
  /** Stops everything in order. */
  stop(reason?: string): Promise<void>;
}

/** Whether the cells' own OpenClaw config sends some model provider's requests somewhere (a `baseUrl`). */
function routesAProvider(config: Record<string, unknown> | undefined): boolean {
  const providers = (config?.models as { providers?: unknown } | undefined)?.providers;
  if (typeof providers !== 'object' || providers === null) return false;
  return Object.values(providers).some((provider) => typeof (provider as { baseUrl?: unknown } | null)?.baseUrl === 'string');
}

/** Builds (but does not start) the gateway the operator config describes. */
export async function buildGateway(loaded: LoadedConfig, overrides: GatewayOverrides = {}): Promise<BuiltGateway> {
  const { config } = loaded;
  const settings = parseGatewaySettings(config.gateway);
  // The runtime's block is checked whichever runtime runs, so a bad key fails at start either way.
  const openclawSettings = parseOpenClawRuntimeSettings(settings.openclaw);
  const runtimeName = overrides.runtime ?? settings.runtime;
  const logger = createLogger({
    tag: 'openclaw-mt',
    secrets: [
      ...(config.serviceToken ? [config.serviceToken] : []),
      ...(config.cloud.push?.secrets ?? []),
      ...(settings.fleet.secret ? [settings.fleet.secret] : []),
    ],
  });
  // Checked before anything opens: a deadline that outlasts the handshake is refused, the rest is said out loud.
  const findings = backendFindings(config, settings.handshakeTimeoutMs);
  const errors = findings.filter((finding) => finding.level === 'error');
  if (errors.length > 0) throw new MultiTenantError('CONFIG_INVALID', `Invalid configuration: ${errors.map((e) => e.message).join(' ')}`);
  if (settings.fleet.secret !== undefined && config.adapter !== 'redis') {
    throw new MultiTenantError('CONFIG_INVALID', 'multiTenant.gateway.fleet: a fleet shares its state in Redis; set "adapter": "redis".');
  }
  const warnings = findings.map((finding) => finding.message);
  // Built before the stores open, so a missing OpenClaw install fails fast and touches nothing.
  let runtime: TenantRuntime;
  let capacity: number | undefined;
  let memoryBudgetBytes: number | undefined;
  let openclawRuntime: OpenClawRuntime | undefined;
  let models: ModelEndpoint | undefined;
  // Cells reach the model gateway on loopback TCP only when they share the host network.
  let modelsOnTcp = false;
  let controlUiFor: OpenClawRuntime | undefined;
  let controlUiRequired = false;
  if (runtimeName === 'openclaw') {
    const fromSettings = openClawRuntimeOptionsFromSettings(openclawSettings);
    models = fromSettings.models === undefined ? undefined : modelEndpoint(fromSettings.models);
    const openclaw = createOpenClawRuntime({
      ...fromSettings.options,
      // One device per front door (and per node of a fleet), kept across restarts so cells pair it once.
      device: await loadBridgeDevice(join(config.dataDir, BRIDGE_DEVICE_FILE)),
      ...(models === undefined ? {} : { models: models.cells }),
      // Beside the tenants' directories: a claim renames a pre-booted cell's directories into a tenant's root.
      ...(fromSettings.warmCells === undefined
        ? {}
        : { warmCells: { count: fromSettings.warmCells, dir: join(config.dataDir, 'warm-cells') } }),
      ...(fromSettings.primedProcesses === undefined
        ? {}
        : { primedProcesses: { count: fromSettings.primedProcesses, dir: join(config.dataDir, 'primed-processes') } }),
      ...(fromSettings.compileCache ? { compileCache: { dir: join(config.dataDir, 'compile-cache') } } : {}),
      logger: logger.withTag('openclaw'),
    });
    modelsOnTcp = !openclaw.sandboxed || fromSettings.options.egress === 'host';
    runtime = openclaw;
    openclawRuntime = openclaw;
    capacity = fromSettings.capacity;
    memoryBudgetBytes = fromSettings.memoryBudgetBytes;
    if (fromSettings.controlUi !== false) controlUiFor = openclaw;
    controlUiRequired = fromSettings.controlUi === true;
    // Said at start rather than found at a tenant's first message ("no authentication source is configured").
    if (models === undefined && !routesAProvider(fromSettings.options.config))
      warnings.push(
        'no model provider is configured (multiTenant.gateway.openclaw.models): cells start, but chat turns fail until one is (docs/openclaw-runtime.md, "The model gateway").',
      );
  } else {
    runtime = createWorkspaceRuntime();
  }
  // Read before the stores open too: a Control UI the operator asked for fails fast when the runtime lacks it;
  // the default serves it only where the runtime has it. Its sign-in check is the gateway's, counted like a login.
  const controlUi =
    controlUiFor === undefined
      ? undefined
      : await createControlUiRoute({
          directory: controlUiDirectory(controlUiFor.install),
          openclawVersion: controlUiFor.install.openclawVersion,
        }).catch((error: unknown) => {
          if (controlUiRequired || !isControlUiMissing(error)) throw error;
          logger.warn('The installed OpenClaw runtime has no Control UI; the front door serves without it.');
          return undefined;
        });
  const stores = await openStores(config);
  const manager = new TenantManager({
    tokens: stores.tokens,
    configs: stores.configs,
    workspaces: stores.workspaces,
    ...(stores.coordinator ? { coordinator: stores.coordinator } : {}),
    ...managerSettingsFromConfig(config),
    // `maxCachedUsers` is the most ever; a memory budget for OpenClaw cells lowers it (below) as cells are measured.
    capacity: config.maxCachedUsers,
    logger,
  });
  if (capacity !== undefined) manager.setCapacity(capacity);
  const capacityFollower =
    openclawRuntime === undefined || memoryBudgetBytes === undefined
      ? undefined
      : followMemoryCapacity({
          budgetBytes: memoryBudgetBytes,
          capacityFor: (budget) => openclawRuntime.capacityFor(budget),
          setCapacity: (wanted) => manager.setCapacity(wanted),
          intervalMs: config.monitor.intervalMs,
          log: logger.withTag('capacity'),
        });
  const usage = runtime.usage === undefined ? undefined : () => runtime.usage!();
  const standby = runtime.standby === undefined ? undefined : () => runtime.standby!();
  // The observer must exist before the gateway; the metrics read the gateway once it does.
  let connections = () => 0;
  const monitor = config.monitor.enabled
    ? new Monitor({
        manager,
        intervalMs: config.monitor.intervalMs,
        rules: builtinRules(
          config.monitor.hostMemoryLowBytes === undefined ? {} : { hostMemory: { lowBytes: config.monitor.hostMemoryLowBytes } },
        ),
        ...(usage === undefined ? {} : { usage }),
        logger: logger.withTag('monitor'),
      })
    : undefined;
  const metrics = createGatewayMetrics({
    manager,
    connections: () => connections(),
    ...(stores.cloud ? { sync: stores.cloud.sync } : {}),
    ...(monitor ? { monitor } : {}),
    ...(usage === undefined ? {} : { usage }),
    ...(standby === undefined ? {} : { standby }),
    ...(stores.cloud?.push ? { push: stores.cloud.push } : {}),
    // Each node of a fleet is scraped on its own; the label says which node a figure is from.
    ...(settings.fleet.secret !== undefined && stores.coordinator ? { nodeId: stores.coordinator.nodeId } : {}),
  });
  const push = stores.cloud?.push;
  const pushPath = push === undefined ? undefined : config.cloud.push?.path;
  const httpRoutes = [
    ...(push === undefined ? [] : [createCloudPushRoute({ receiver: push, ...(pushPath ? { path: pushPath } : {}) })]),
    // The Control UI answers every other GET, so it goes last.
    ...(controlUi === undefined ? [] : [controlUi]),
  ];
  // OpenClaw's own HTTP APIs, per tenant, when the operator enabled any: authenticated and pinned by the gateway.
  const tenantHttpRoutes: TenantHttpRoute[] =
    openclawRuntime === undefined || !Object.values(openclawRuntime.httpApis).some(Boolean)
      ? []
      : [createHttpApiRoute({ runtime: openclawRuntime })];
  const gateway = createGateway({
    ...gatewayOptionsFromSettings(settings),
    ...(httpRoutes.length === 0 ? {} : { httpRoutes }),
    ...(tenantHttpRoutes.length === 0 ? {} : { tenantHttpRoutes }),
    ...(overrides.bind === undefined ? {} : { host: overrides.bind }),
    ...(overrides.port === undefined ? {} : { port: overrides.port }),
    manager,
    runtime,
    observer: metrics.observer,
    logger,
  });
  connections = () => gateway.connectionCount();
  const modelGateway = await models?.start({
    registry: metrics.registry,
    cloud: stores.cloud,
    logger: logger.withTag('models'),
    tcp: modelsOnTcp,
  });
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
        ...(modelGateway ? { models: modelGateway } : {}),
      })
    : undefined;
  if (stores.cloud !== undefined) {
    // Startup is never hostage to the backend: the gateway listens on its last-known-good state while the
    // first sync catches up in the background (logging its progress); failures retry with backoff.
    for (const warning of warnings) logger.warn(warning);
    const { firstRun } = await stores.cloud.attach(manager, { background: true });
    void firstRun?.then((first) => {
      if (!first.ok) logger.warn(`Initial config sync failed; serving last-known-good configs: ${first.error?.message ?? 'unknown error'}`);
    });
  }
  let unadvertise: (() => Promise<void>) | undefined;
  async function stop(reason?: string): Promise<void> {
    monitor?.stop();
    capacityFollower?.stop();
    await unadvertise?.();
    await admin?.close();
    await gateway.close(reason);
    // After the cells: requests in flight finish first.
    await models?.close();
    metrics.close();
    // The manager closes the stores it uses; this closes the rest (the audit log) and the Redis connection.
    await stores.close();
  }
  return {
    gateway,
    stores,
    runtimeName,
    monitor,
    admin,
    warnings,
    pushPath,
    servesControlUi: controlUi !== undefined,
    async listen() {
      // All or nothing: a listener that fails closes the ones that started, and the start fails with its code.
      try {
        const { url, fleetUrl } = await gateway.listen();
        const adminUrl = admin === undefined ? undefined : (await admin.listen()).url;
        if (adminUrl !== undefined) unadvertise = await advertiseAdminUrl(config, adminUrl);
        monitor?.start();
        return { url, adminUrl, fleetUrl };
      } catch (error) {
        await stop('gateway failed to start').catch((stopError: unknown) => logger.warn('stopping after a failed start:', stopError));
        throw error;
      }
    },
    stop,
  };
}

function isControlUiMissing(error: unknown): boolean {
  return isMultiTenantError(error) && (error.details as { reason?: unknown } | undefined)?.reason === 'control-ui-missing';
}
