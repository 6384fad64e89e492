import { backendSetupFindings, DEFAULT_TIMEOUT_MS, resolveCloudDialect, type BackendSetupFinding } from '@openclaw-mt/core/cloud';
import type { OperatorConfig } from '@openclaw-mt/core';

/** What `serve` and `doctor` say about the configured Cloud Backend (nothing without one). */
export function backendFindings(config: OperatorConfig, handshakeTimeoutMs: number | undefined): BackendSetupFinding[] {
  if (!config.enabled || config.cloudBackendUrl === undefined) return [];
  return backendSetupFindings({
    url: config.cloudBackendUrl,
    dialect: resolveCloudDialect(config.cloud.dialect, config.cloud.pathPrefix),
    timeoutMs: config.cloud.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs }),
    push: config.cloud.push !== undefined,
  });
}
