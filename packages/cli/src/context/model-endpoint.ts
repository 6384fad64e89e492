import { MultiTenantError } from '@openclaw-mt/core';
import type { CloudBackend } from '@openclaw-mt/core/cloud';
import { createModelGateway, type ModelGateway, type ModelGatewayOptions, type ProviderConfig } from '@openclaw-mt/model-gateway';
import type { CellModels, ModelGatewaySettings } from '@openclaw-mt/runtime-openclaw';
import type { ConsolaInstance } from 'consola';

type Registry = NonNullable<ModelGatewayOptions['metrics']>['registry'];

/**
 * The operator's providers from the `models` settings, each key read from the config or from the
 * environment variable it names. A named variable that is unset or empty is `CONFIG_INVALID`: a
 * provider must never silently run keyless.
 */
export function operatorProviders(settings: ModelGatewaySettings, env: NodeJS.ProcessEnv = process.env): Record<string, ProviderConfig> {
  const out: Record<string, ProviderConfig> = {};
  for (const [id, { apiKeyEnv, apiKey, api, ...rest }] of Object.entries(settings.providers)) {
    if (apiKey !== undefined && apiKeyEnv !== undefined)
      throw new MultiTenantError(
        'CONFIG_INVALID',
        `multiTenant.gateway.openclaw.models.providers.${id}: give apiKey or apiKeyEnv, not both.`,
      );
    const key = apiKeyEnv === undefined ? apiKey : env[apiKeyEnv];
    if (apiKeyEnv !== undefined && (key === undefined || key === ''))
      throw new MultiTenantError(
        'CONFIG_INVALID',
        `multiTenant.gateway.openclaw.models.providers.${id}.apiKeyEnv: the environment variable ${apiKeyEnv} is not set.`,
      );
    out[id] = { ...rest, api: api as ProviderConfig['api'], ...(key === undefined ? {} : { apiKey: key }) };
  }
  return out;
}

/** The model gateway of a running `serve`, and the view of it the openclaw runtime's cells use. */
export interface ModelEndpoint {
  /**
   * Handed to the runtime before the gateway exists: what the runtime starts at once (pre-booted cells, primed
   * processes, the compile cache's recording) waits for `ready`, which {@link ModelEndpoint.start} settles.
   */
  cells: CellModels;
  /** Creates the gateway (metrics on `registry`, tenants' own keys from the Cloud Backend). */
  start(options: { registry: Registry; cloud: CloudBackend | undefined; logger: ConsolaInstance; tcp: boolean }): Promise<ModelGateway>;
  gateway(): ModelGateway | undefined;
  close(): Promise<void>;
}

/**
 * A model endpoint built in two steps: the runtime needs to know of it when it is created (before the
 * stores open), the gateway needs the metrics registry and the Cloud Backend (after).
 */
export function modelEndpoint(settings: ModelGatewaySettings): ModelEndpoint {
  const providers = operatorProviders(settings);
  let models: ModelGateway | undefined;
  const running = (): ModelGateway => {
    if (models === undefined)
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'The model gateway is not running.', { retryAfterMs: 1_000 });
    return models;
  };
  let started = (): void => undefined;
  let abandoned = (_error: Error): void => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    abandoned = reject;
  });
  const cells: CellModels = {
    gateway: {
      issue: (tenantId) => running().issue(tenantId),
      reserve: () => running().reserve(),
      listenFor: (tenantId, path, options) => running().listenFor(tenantId, path, options),
      cellProviders: (credential, origin) => running().cellProviders(credential, origin),
    },
    ready,
  };
  return {
    cells,
    async start({ registry, cloud, logger, tcp }) {
      models = createModelGateway({
        providers,
        ...(settings.limits === undefined ? {} : { limits: settings.limits }),
        ...(settings.maxBodyBytes === undefined ? {} : { maxBodyBytes: settings.maxBodyBytes }),
        ...(settings.upstreamTimeoutMs === undefined ? {} : { upstreamTimeoutMs: settings.upstreamTimeoutMs }),
        // A tenant's own key (the Cloud Backend's per-user llm_api_key), else the operator's.
        ...(cloud === undefined
          ? {}
          : { resolve: (tenantId: string, providerId: string) => cloud.resolveCredential(tenantId, providerId) }),
        metrics: { registry },
        logger,
      });
      // Cells that share the host network reach it on loopback; sandboxed ones through their own socket.
      if (tcp) cells.origin = (await models.listen()).origin;
      started();
      return models;
    },
    gateway: () => models,
    async close() {
      // Whatever still waits for a gateway that never ran fails now (a settled promise ignores this).
      abandoned(new MultiTenantError('BACKEND_UNAVAILABLE', 'The model gateway closed before it ran.'));
      await models?.close();
    },
  };
}
