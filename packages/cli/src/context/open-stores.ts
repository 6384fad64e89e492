import type { AdapterContext, AuditLog, ConfigSource, Coordinator, OperatorConfig, TokenStore, WorkspaceStore } from '@openclaw-mt/core';
import type { CloudBackend } from '@openclaw-mt/core/cloud';
import { openAdapter } from './adapter-registry.js';
import { openCloudBackend } from './cloud-stores.js';

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

async function openLocalStores(config: OperatorConfig, role: AdapterContext['role']): Promise<LocalStores> {
  const { check: _check, ...opened } = await openAdapter(config, role);
  return opened;
}

/**
 * Opens the stores the config names. With a Cloud Backend, tokens are verified by the backend and
 * configs are served from the local store's last-known-good copy, which the sync keeps current.
 */
export async function openStores(config: OperatorConfig, role: AdapterContext['role'] = 'serve'): Promise<OpenedStores> {
  const local = await openLocalStores(config, role);
  const cloud = openCloudBackend(config, local.configs);
  if (cloud === undefined) return local;
  return {
    ...local,
    tokens: cloud.tokens,
    configs: cloud.configs,
    cloud,
    description: `Cloud Backend ${cloud.client.baseUrl} (${cloud.client.dialect.name}), last-known-good configs in ${local.description}`,
  };
}
