import type { ConsolaInstance } from 'consola';
import type { ConfigSource, TenantConfig } from '../contracts/config-source.js';
import type { ProviderCredential, TenantSecretStore } from '../contracts/tenant-secret-store.js';
import { DEFAULT_PROVIDER_ID } from '../contracts/tenant-secret-store.js';
import { tenantConfigProblem } from '../config/tenant-config.js';
import type { EvictionReason } from '../lifecycle/tenant-hooks.js';
import { createLogger } from '../logging/logger.js';
import type { TokenFormatName } from '../tokens/token-formats.js';
import type { BackoffOptions } from '../helpers/backoff.js';
import { type CloudClient, createCloudClient } from './cloud-client.js';
import { type CloudConfigSource, createCloudConfigSource } from './cloud-config-source.js';
import { type CloudTokenStore, type VerifiedAnswer, createCloudTokenStore } from './cloud-token-store.js';
import type { CloudClock } from './clock.js';
import { ConfigSyncService, type SyncResult, type SyncTarget } from './config-sync.js';
import type { SyncCursorStore } from './cursor-store.js';
import type { CloudDialect, CloudDialectName } from './dialects/cloud-dialect.js';
import type { FetchFunction } from './http-request.js';
import { type PushReceiver, createPushReceiver } from './push/push-receiver.js';
import { createMemoryTenantSecretStore } from './tenant-secrets.js';
import type { VerifiedTokenStore } from './verified-tokens.js';

/** Options of {@link createCloudBackend}. */
export interface CloudBackendOptions {
  /** Base URL of the operator's Cloud Backend (`multiTenant.cloudBackendUrl`). */
  url: string;
  /** The gateway's service token (`multiTenant.serviceToken`); sent only as a bearer header, never logged. */
  serviceToken: string;
  /** `v1` (default) or `fba`, the original fork's backend as it is (`multiTenant.cloud.dialect`). */
  dialect?: CloudDialectName | CloudDialect;
  /** Prefix of the backend's routes (default: the dialect's). */
  pathPrefix?: string;
  /** Token formats accepted (default: the dialect's); match the manager's `tokenFormats`. */
  tokenFormats?: readonly TokenFormatName[];
  /** Local copy of every synced config (fs, Redis or memory source with `put`); reads are served from it. */
  lastKnownGood: ConfigSource;
  /** Persists the sync position (e.g. `createFileCursorStore(path)`); in memory by default. */
  cursorStore?: SyncCursorStore;
  /** Persists the outage grace (e.g. `createFileVerifiedTokenStore(path)`); in memory by default. */
  verifiedTokens?: VerifiedTokenStore;
  /** Keeps the per-user model credentials a backend hands out (the fork's); in memory by default. */
  secrets?: TenantSecretStore;
  /** Accept signed pushes (contract v1.1) with these shared secrets; see {@link CloudBackend.push}. */
  push?: { secrets: readonly string[]; toleranceMs?: number };
  fetch?: FetchFunction;
  /** Deadline of one request. Default 5 s. Keep it below the gateway's handshake timeout. */
  timeoutMs?: number;
  /** Responses larger than this are refused (a feed page is then re-read in smaller pages). Default 32 MiB. */
  maxResponseBytes?: number;
  /** How long a verified token keeps working while the backend is unreachable. Default 15 min. */
  outageGraceMs?: number;
  /** Fail fast for this long after the backend failed to answer a verification. Default 2 s. */
  breakerMs?: number;
  graceEntries?: number;
  /** Peppers for the grace's token hashes (the manager's peppers). */
  peppers?: readonly string[];
  /** `multiTenant.syncIntervalMs`. Default 60 s. */
  syncIntervalMs?: number;
  pageLimit?: number;
  /** The sync's page budget per run. Default 10,000. */
  maxPagesPerRun?: number;
  backoff?: BackoffOptions;
  /** A verify answer that shows the synced copy is behind triggers a sync, at most this often. Default 5 s. */
  catchUpIntervalMs?: number;
  clock?: CloudClock;
  random?: () => number;
  logger?: ConsolaInstance;
}

/** What `attach` needs of a TenantManager. */
export type CloudAttachTarget = SyncTarget & {
  evict(tenantId: string, options?: { reason?: EvictionReason; force?: boolean }): Promise<boolean>;
};

/** The Cloud Backend integration: plug `tokens` and `configs` into a TenantManager and `attach` it. */
export interface CloudBackend {
  client: CloudClient;
  tokens: CloudTokenStore;
  configs: CloudConfigSource;
  sync: ConfigSyncService;
  /** Per-tenant model credentials from the backend (never in tenant-visible config). */
  secrets: TenantSecretStore;
  /** Present with `push`: verifies and applies signed events; mount it with the gateway's push route. */
  push: PushReceiver | undefined;
  /** A tenant's model credential for a provider (a model gateway's `resolve` hook). */
  resolveCredential(tenantId: string, providerId: string): Promise<ProviderCredential | undefined>;
  /**
   * Connects sync, token events and verify answers to a manager and starts syncing unless `start: false`.
   * By default the promise settles after the first run, whose result it carries; with `background: true`
   * it settles at once (`first` undefined) and `firstRun` settles later — a gateway listens meanwhile on
   * its last-known-good state.
   */
  attach(
    manager: CloudAttachTarget,
    options?: { start?: boolean; background?: boolean },
  ): Promise<{ detach: () => void; first: SyncResult | undefined; firstRun: Promise<SyncResult> | undefined }>;
}

/**
 * Builds the Cloud Backend integration:
 *
 * ```ts
 * const cloud = createCloudBackend({ url, serviceToken, lastKnownGood: fsConfigSource, cursorStore: createFileCursorStore(path) });
 * const manager = new TenantManager({ tokens: cloud.tokens, configs: cloud.configs, workspaces });
 * await cloud.attach(manager);   // first sync, then every syncIntervalMs; stops when the manager closes
 * ```
 *
 * What reaches the manager, and how fast: pushes (at once), token events and status changes in the feed
 * (within one sync interval), and what a verify answer shows ahead of the feed — a suspension closes the
 * tenant's sockets, a resumption admits the user before the feed catches up.
 */
export function createCloudBackend(options: CloudBackendOptions): CloudBackend {
  const secretList = [options.serviceToken, ...(options.push?.secrets ?? [])].filter((s) => typeof s === 'string');
  const logger = options.logger ?? createLogger({ tag: 'openclaw-mt:cloud', secrets: secretList });
  const client = createCloudClient({
    url: options.url,
    serviceToken: options.serviceToken,
    ...pick(options, ['dialect', 'pathPrefix', 'fetch', 'timeoutMs', 'maxResponseBytes']),
  });
  const lkg = options.lastKnownGood;
  const secrets = options.secrets ?? createMemoryTenantSecretStore();
  const sync = new ConfigSyncService({
    client,
    lastKnownGood: lkg,
    logger,
    secrets,
    ...pick(options, ['cursorStore', 'syncIntervalMs', 'pageLimit', 'maxPagesPerRun', 'backoff', 'clock', 'random']),
  });
  const catchUpMs = options.catchUpIntervalMs ?? 5_000;
  const now = () => (options.clock ?? { now: Date.now }).now();
  let lastCatchUp = Number.NEGATIVE_INFINITY;
  let target: CloudAttachTarget | undefined;

  const catchUp = () => {
    if (!sync.status().started || now() - lastCatchUp < catchUpMs) return;
    lastCatchUp = now();
    void sync.syncNow().catch(() => undefined);
  };

  const configs = createCloudConfigSource({
    lastKnownGood: lkg,
    onClose: async () => {
      await sync.close();
      await secrets.close?.();
    },
  });

  /** What a verify answer says beyond the token: the tenant's status now, its config version, its secrets. */
  const onVerified = async ({ tenantId, answer, config, credential }: VerifiedAnswer) => {
    const entry = await lkg.get(tenantId);
    if (answer.status !== 'expired') {
      const status = answer.status === 'suspended' ? 'suspended' : 'active';
      // Compared with what reads see (an earlier verify answer may already stand over the synced copy).
      const seen = await configs.get(tenantId);
      if (status !== (seen?.status ?? 'active')) {
        // Fresher than the synced copy: honour it now, and fetch the feed to make it stick.
        configs.noteVerifiedStatus(tenantId, status, entry?.version ?? 0);
        if (status === 'suspended' && target !== undefined) {
          logger.info(`the Cloud Backend reports ${tenantId} suspended; closing their connections`);
          await target.hooks.callHook('tenant:suspended', { tenantId, status: 'suspended' });
          await target.evict(tenantId, { reason: 'suspended', force: true }).catch(() => false);
        }
        catchUp();
      }
    }
    if (answer.configVersion !== undefined && (entry?.version ?? 0) < answer.configVersion) catchUp();
    // A backend whose verify carries the config (the fork's) seeds a user the feed has not delivered yet;
    // version 1 is older than any feed entry, so the feed always wins.
    if (config !== undefined && entry === undefined && answer.status === 'active' && tenantConfigProblem(config) === undefined) {
      await lkg.put?.({ tenantId, status: 'active', config: config as TenantConfig, version: 1, updatedAt: now() });
    }
    if (client.dialect.name === 'fba') await secrets.set(tenantId, credential ? { [DEFAULT_PROVIDER_ID]: credential } : {});
  };

  const tokens = createCloudTokenStore({
    client,
    logger,
    onVerified,
    tenantStatusOf: async (tenantId) => (await configs.get(tenantId))?.status,
    onHealth(event) {
      if (target === undefined) return;
      void (event.healthy
        ? target.hooks.callHook('backend:recovered', { downtimeMs: event.downtimeMs })
        : target.hooks.callHook('backend:failed', { error: event.error }));
    },
    ...pick(options, ['outageGraceMs', 'breakerMs', 'graceEntries', 'peppers', 'tokenFormats', 'verifiedTokens', 'clock']),
  });
  sync.hooks.hook('sync:token-event', ({ event }) => tokens.applyTokenEvent(event));

  const push =
    options.push === undefined
      ? undefined
      : createPushReceiver({
          secrets: options.push.secrets,
          ...(options.push.toleranceMs === undefined ? {} : { toleranceMs: options.push.toleranceMs }),
          apply: (entries) => sync.applyPushed(entries),
          logger,
          ...(options.clock ? { clock: options.clock } : {}),
        });

  return {
    client,
    tokens,
    configs,
    sync,
    secrets,
    push,
    resolveCredential: (tenantId, providerId) => secrets.resolve(tenantId, providerId),
    async attach(manager, attachOptions = {}) {
      target = manager;
      const detachSync = sync.attach(manager);
      const detach = () => {
        if (target === manager) target = undefined;
        detachSync();
      };
      if (attachOptions.start === false) return { detach, first: undefined, firstRun: undefined };
      const firstRun = sync.start();
      if (attachOptions.background) return { detach, first: undefined, firstRun };
      return { detach, first: await firstRun, firstRun };
    },
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
