import { join } from 'node:path';
import {
  createCloudBackend,
  createFileCursorStore,
  createFileTenantSecretStore,
  createFileVerifiedTokenStore,
  createMemoryTenantSecretStore,
  createMemoryVerifiedTokenStore,
  type CloudBackend,
} from '@openclaw-mt/core/cloud';
import { effectiveTokenFormats, type ConfigSource, type OperatorConfig } from '@openclaw-mt/core';

/** Files the Cloud Backend integration keeps under `dataDir` (each 0600, written atomically). */
export const CloudStateFiles = {
  cursor: 'sync-cursor.json',
  verifiedTokens: 'verified-tokens.jsonl',
  tenantSecrets: 'tenant-secrets.json',
} as const;

/**
 * The Cloud Backend integration the config names, over a local config source as its last-known-good copy.
 * The sync cursor, the outage grace and tenant secrets persist under `dataDir` (in memory with the memory
 * adapter), so a restart during an outage still admits users verified shortly before.
 */
export function openCloudBackend(config: OperatorConfig, lastKnownGood: ConfigSource): CloudBackend | undefined {
  if (!config.enabled || config.cloudBackendUrl === undefined || config.serviceToken === undefined) return undefined;
  const persistent = config.adapter !== 'memory';
  const cloud = config.cloud;
  return createCloudBackend({
    url: config.cloudBackendUrl,
    serviceToken: config.serviceToken,
    dialect: cloud.dialect,
    ...(cloud.pathPrefix === undefined ? {} : { pathPrefix: cloud.pathPrefix }),
    tokenFormats: effectiveTokenFormats(config),
    lastKnownGood,
    cursorStore: createFileCursorStore(join(config.dataDir, CloudStateFiles.cursor)),
    verifiedTokens: persistent
      ? createFileVerifiedTokenStore(join(config.dataDir, CloudStateFiles.verifiedTokens))
      : createMemoryVerifiedTokenStore(),
    secrets: persistent
      ? createFileTenantSecretStore(join(config.dataDir, CloudStateFiles.tenantSecrets))
      : createMemoryTenantSecretStore(),
    syncIntervalMs: config.syncIntervalMs,
    peppers: config.peppers,
    ...(cloud.push === undefined ? {} : { push: { secrets: cloud.push.secrets, toleranceMs: cloud.push.toleranceMs } }),
    ...(cloud.timeoutMs === undefined ? {} : { timeoutMs: cloud.timeoutMs }),
    ...(cloud.outageGraceMs === undefined ? {} : { outageGraceMs: cloud.outageGraceMs }),
    ...(cloud.pageLimit === undefined ? {} : { pageLimit: cloud.pageLimit }),
    ...(cloud.maxResponseBytes === undefined ? {} : { maxResponseBytes: cloud.maxResponseBytes }),
    ...(cloud.maxPagesPerRun === undefined ? {} : { maxPagesPerRun: cloud.maxPagesPerRun }),
  });
}
