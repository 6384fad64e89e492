import type { OperatorConfig } from '@openclaw-mt/core';
import { openStores, type OpenedStores } from './open-stores.js';

/**
 * Opens the stores for a CLI command that may open workspaces, beside a gateway that may be running
 * on this host: adapters keep such a command's scratch state apart from the gateway's (see
 * `AdapterContext.role`).
 */
export function openToolStores(config: OperatorConfig): Promise<OpenedStores> {
  return openStores(config, 'tool');
}
