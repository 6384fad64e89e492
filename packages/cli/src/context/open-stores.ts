import { hostname } from 'node:os';
import { join } from 'node:path';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { createRedisAdapter } from '@openclaw-mt/adapter-redis';
import {
  createCloudBackend,
  createFileCursorStore,
  createMemoryAdapter,
  createMemoryAuditLog,
  loadWorkspaceTemplate,
  MultiTenantError,
  type AuditLog,
  type CloudBackend,
  type ConfigSource,
  type Coordinator,
  type OperatorConfig,
  type TokenStore,
  type WorkspaceStore,
} from '@openclaw-mt/core';

/** The stores named by the operator config, ready for a manager or for direct administration. */
export interface OpenedStores {
  tokens: TokenStore;
  configs: ConfigSource;
  workspaces: WorkspaceStore;
  coordinator?: Coordinator;
  /** Where administrative actions are recorded. */
  audit?: AuditLog;
  /** Present when the config names a Cloud Backend: attach it to the manager to start syncing. */
  cloud?: CloudBackend;
  /** A short description for logs ("fs at /var/lib/openclaw-mt"). */
  description: string;
  close(): Promise<void>;
}

type LocalStores = Omit<OpenedStores, 'cloud'>;

/** How long opening waits for Redis before reporting it unavailable. */
const REDIS_READY_TIMEOUT_MS = 10_000;

async function openRedisStores(config: OperatorConfig, limits: Record<string, number>): Promise<LocalStores> {
  const redis = config.redis ?? { url: 'redis://127.0.0.1:6379', prefix: 'ocmt' };
  const adapter = createRedisAdapter({
    ...(redis.cluster ? { cluster: redis.cluster } : { url: redis.url }),
    prefix: redis.prefix,
    // Unique per process: a node's claims must never be mistaken for another's.
    nodeId: `${hostname()}-${process.pid}`,
    localDir: join(config.dataDir, 'node-workspaces'),
    template: await loadWorkspaceTemplate(config.templatePath),
    limits,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      adapter.ready(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new MultiTenantError('BACKEND_UNAVAILABLE', `Redis at ${redis.cluster?.join(', ') ?? redis.url} did not answer within ${REDIS_READY_TIMEOUT_MS / 1000} s.`, { retryAfterMs: 5_000 })), REDIS_READY_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    await adapter.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    tokens: adapter.tokens,
    configs: adapter.configs,
    workspaces: adapter.workspaces,
    coordinator: adapter.coordinator,
    audit: adapter.audit,
    description: `redis with prefix "${redis.prefix}"`,
    close: () => adapter.close(),
  };
}

async function openLocalStores(config: OperatorConfig): Promise<LocalStores> {
  const limits = Object.fromEntries(Object.entries(config.limits).filter(([, value]) => value !== undefined));
  switch (config.adapter) {
    case 'memory': {
      const adapter = createMemoryAdapter({ limits });
      return { ...adapter, audit: createMemoryAuditLog(), description: 'memory (not persistent)', close: async () => undefined };
    }
    case 'fs': {
      const adapter = createFsAdapter({
        workspaceRoot: config.workspaceRoot,
        configRoot: config.configRoot,
        tokenRoot: config.tokenRoot,
        auditRoot: join(config.dataDir, 'audit'),
        ...(config.templatePath ? { templatePath: config.templatePath } : {}),
        limits,
      });
      return {
        tokens: adapter.tokens,
        configs: adapter.configs,
        workspaces: adapter.workspaces,
        audit: adapter.audit,
        description: `fs at ${config.dataDir}`,
        close: () => adapter.close(),
      };
    }
    case 'redis':
      return openRedisStores(config, limits);
  }
}

/**
 * Opens the stores the config names. With a Cloud Backend, tokens are verified by the backend and
 * configs are served from the local store's last-known-good copy, which the sync keeps current.
 */
export async function openStores(config: OperatorConfig): Promise<OpenedStores> {
  const local = await openLocalStores(config);
  if (!config.enabled || config.cloudBackendUrl === undefined || config.serviceToken === undefined) return local;
  const cloud = createCloudBackend({
    url: config.cloudBackendUrl,
    serviceToken: config.serviceToken,
    lastKnownGood: local.configs,
    cursorStore: createFileCursorStore(join(config.dataDir, 'sync-cursor.json')),
    syncIntervalMs: config.syncIntervalMs,
    peppers: config.peppers,
    ...(config.cloud.timeoutMs === undefined ? {} : { timeoutMs: config.cloud.timeoutMs }),
    ...(config.cloud.outageGraceMs === undefined ? {} : { outageGraceMs: config.cloud.outageGraceMs }),
    ...(config.cloud.pageLimit === undefined ? {} : { pageLimit: config.cloud.pageLimit }),
  });
  return {
    ...local,
    tokens: cloud.tokens,
    configs: cloud.configs,
    cloud,
    description: `Cloud Backend ${new URL(config.cloudBackendUrl).origin}, last-known-good configs in ${local.description}`,
  };
}
