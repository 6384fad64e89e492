import { createMemoryTokenStore } from '@openclaw-mt/core/testing';
import type { ConfigSource, WorkspaceHandle, WorkspaceStore } from '@openclaw-mt/core';

/**
 * Stores that do no work, so a benchmark measures the manager's own bookkeeping: configs are absent
 * (operator defaults apply) and every tenant shares one empty workspace handle.
 */
export function inertStores() {
  const handle: WorkspaceHandle = {
    tenantId: 'inert',
    read: async () => new Uint8Array(),
    write: async () => undefined,
    append: async () => undefined,
    list: async () => [],
    remove: async () => false,
    usage: async () => 0,
    flush: async () => undefined,
    close: async () => undefined,
  };
  const configs: ConfigSource = {
    name: 'inert',
    capabilities: { write: false, changes: false, watch: false, list: false },
    get: async () => undefined,
  };
  const workspaces: WorkspaceStore = {
    name: 'inert',
    capabilities: { localDirectory: false, fencing: false, list: false },
    limits: { maxFileBytes: 1, maxWorkspaceBytes: 1 },
    open: async () => handle,
    exists: async () => true,
    destroy: async () => false,
  };
  return { tokens: createMemoryTokenStore(), configs, workspaces };
}
