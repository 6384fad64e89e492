import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import {
  createMemoryAdapter,
  MultiTenantError,
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
  /** A short description for logs ("fs at /var/lib/openclaw-mt"). */
  description: string;
  close(): Promise<void>;
}

/** Opens the stores the config's `adapter` names. */
export async function openStores(config: OperatorConfig): Promise<OpenedStores> {
  const limits = Object.fromEntries(Object.entries(config.limits).filter(([, value]) => value !== undefined));
  switch (config.adapter) {
    case 'memory': {
      const adapter = createMemoryAdapter({ limits });
      return { ...adapter, description: 'memory (not persistent)', close: async () => undefined };
    }
    case 'fs': {
      const adapter = createFsAdapter({
        workspaceRoot: config.workspaceRoot,
        configRoot: config.configRoot,
        tokenRoot: config.tokenRoot,
        ...(config.templatePath ? { templatePath: config.templatePath } : {}),
        limits,
      });
      return {
        tokens: adapter.tokens,
        configs: adapter.configs,
        workspaces: adapter.workspaces,
        description: `fs at ${config.dataDir}`,
        close: () => adapter.close(),
      };
    }
    default:
      throw new MultiTenantError('CONFIG_INVALID', `multiTenant.adapter: "${config.adapter}" is not available in this build.`);
  }
}
