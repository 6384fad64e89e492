import type { LoadedConfig } from '@openclaw-mt/core';
import { loadOperatorConfig } from './operator-context.js';
import type { OpenedStores } from './open-stores.js';
import { openToolStores } from './tool-stores.js';

/** Loads the operator config, opens the stores it names, runs `body` and closes them. */
export async function withStores<T>(
  configPath: string | undefined,
  body: (stores: OpenedStores, loaded: LoadedConfig) => Promise<T>,
): Promise<T> {
  const loaded = await loadOperatorConfig(configPath);
  const stores = await openToolStores(loaded.config);
  try {
    return await body(stores, loaded);
  } finally {
    await stores.close();
  }
}
