import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OperatorConfig } from '@openclaw-mt/core';
import { openStores, type OpenedStores } from './open-stores.js';

/**
 * Opens the stores for a CLI command that may open workspaces. The Redis adapter materialises open
 * workspaces under `<dataDir>/node-workspaces/<tenant>`; a gateway on this host uses that directory
 * for its active tenants, so a CLI process gets a scratch directory of its own (removed on close)
 * rather than replacing, then deleting, the gateway's working copy.
 */
export async function openToolStores(config: OperatorConfig): Promise<OpenedStores> {
  if (config.adapter !== 'redis') return openStores(config);
  const scratch = join(config.dataDir, 'cli-workspaces', `${process.pid}-${randomBytes(4).toString('hex')}`);
  const stores = await openStores({ ...config, dataDir: scratch });
  return {
    ...stores,
    async close() {
      try {
        await stores.close();
      } finally {
        await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
      }
    },
  };
}
