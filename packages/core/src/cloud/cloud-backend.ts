import type { ConsolaInstance } from 'consola';
import type { ConfigSource } from '../contracts/config-source.js';
import { createLogger } from '../logging/logger.js';
import type { BackoffOptions } from './backoff.js';
import { type CloudClient, createCloudClient } from './cloud-client.js';
import { createCloudConfigSource } from './cloud-config-source.js';
import { type CloudTokenStore, createCloudTokenStore } from './cloud-token-store.js';
import type { CloudClock } from './clock.js';
import { ConfigSyncService, type SyncResult, type SyncTarget } from './config-sync.js';
import type { SyncCursorStore } from './cursor-store.js';
import type { FetchFunction } from './http-request.js';

/** Options of {@link createCloudBackend}. */
export interface CloudBackendOptions {
  /** Base URL of the operator's Cloud Backend (`multiTenant.cloudBackendUrl`). */
  url: string;
  /** The gateway's service token (`multiTenant.serviceToken`); sent only as a bearer header, never logged. */
  serviceToken: string;
  /** Local copy of every synced config (fs, Redis or memory source with `put`); reads are served from it. */
  lastKnownGood: ConfigSource;
  /** Persists the sync position (e.g. `createFileCursorStore(path)`); in memory by default. */
  cursorStore?: SyncCursorStore;
  fetch?: FetchFunction;
  /** Deadline of one request. Default 5 s. */
  timeoutMs?: number;
  /** Responses larger than this are refused. Default 32 MiB. */
  maxResponseBytes?: number;
  /** How long a verified token keeps working while the backend is unreachable. Default 15 min. */
  outageGraceMs?: number;
  /** Fail fast for this long after the backend failed to answer a verification. Default 2 s. */
  breakerMs?: number;
  graceEntries?: number;
  /** Peppers for the grace cache's token hashes (the manager's peppers fit). */
  peppers?: readonly string[];
  /** `multiTenant.syncIntervalMs`. Default 60 s. */
  syncIntervalMs?: number;
  pageLimit?: number;
  maxPagesPerRun?: number;
  backoff?: BackoffOptions;
  /** A verify answer with a newer config version triggers a sync, at most this often. Default 5 s. */
  catchUpIntervalMs?: number;
  clock?: CloudClock;
  random?: () => number;
  logger?: ConsolaInstance;
}

/** The Cloud Backend integration: plug `tokens` and `configs` into a TenantManager and `attach` it. */
export interface CloudBackend {
  client: CloudClient;
  tokens: CloudTokenStore;
  configs: ConfigSource;
  sync: ConfigSyncService;
  /**
   * Connects sync to a manager (see {@link ConfigSyncService.attach}) and starts it unless
   * `start: false`. The returned promise settles after the first run, whose result it carries.
   */
  attach(manager: SyncTarget, options?: { start?: boolean }): Promise<{ detach: () => void; first: SyncResult | undefined }>;
}

/**
 * Builds the Cloud Backend integration:
 *
 * ```ts
 * const cloud = createCloudBackend({ url, serviceToken, lastKnownGood: fsConfigSource, cursorStore: createFileCursorStore(path) });
 * const manager = new TenantManager({ tokens: cloud.tokens, configs: cloud.configs, workspaces });
 * await cloud.attach(manager);   // first sync, then every syncIntervalMs; stops when the manager closes
 * ```
 */
export function createCloudBackend(options: CloudBackendOptions): CloudBackend {
  const logger = options.logger ?? createLogger({ tag: 'openclaw-mt:cloud', secrets: [options.serviceToken].filter((s) => typeof s === 'string') });
  const client = createCloudClient({
    url: options.url,
    serviceToken: options.serviceToken,
    ...pick(options, ['fetch', 'timeoutMs', 'maxResponseBytes']),
  });
  const sync = new ConfigSyncService({
    client,
    lastKnownGood: options.lastKnownGood,
    logger,
    ...pick(options, ['cursorStore', 'syncIntervalMs', 'pageLimit', 'maxPagesPerRun', 'backoff', 'clock', 'random']),
  });
  const catchUpMs = options.catchUpIntervalMs ?? 5_000;
  const now = () => (options.clock ?? { now: Date.now }).now();
  let lastCatchUp = Number.NEGATIVE_INFINITY;
  const tokens = createCloudTokenStore({
    client,
    logger,
    ...pick(options, ['outageGraceMs', 'breakerMs', 'graceEntries', 'peppers', 'clock']),
    onVerified(answer) {
      // The backend knows a newer config than our copy: fetch it now rather than at the next interval.
      if (answer.configVersion === undefined || !sync.status().started || now() - lastCatchUp < catchUpMs) return;
      void options.lastKnownGood
        .get(answer.userId)
        .then((entry) => {
          if ((entry?.version ?? 0) >= answer.configVersion! || now() - lastCatchUp < catchUpMs) return;
          lastCatchUp = now();
          return sync.syncNow();
        })
        .catch(() => undefined);
    },
  });
  const configs = createCloudConfigSource({ lastKnownGood: options.lastKnownGood, onClose: () => sync.close() });
  return {
    client,
    tokens,
    configs,
    sync,
    async attach(manager, attachOptions = {}) {
      const detach = sync.attach(manager);
      const first = attachOptions.start === false ? undefined : await sync.start();
      return { detach, first };
    },
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
