import type { AuditEntry, AuditLog } from '../contracts/audit-log.js';
import { createMemoryAuditLog } from './memory-audit-log.js';
import {
  createMemoryConfigSource,
  createMemoryConfigState,
  type MemoryConfigSource,
  type MemoryConfigState,
} from './memory-config-source.js';
import { createMemoryTokenState, createMemoryTokenStore, type MemoryTokenState, type MemoryTokenStore } from './memory-token-store.js';
import {
  createMemoryWorkspaceStore,
  type MemoryWorkspaceData,
  type MemoryWorkspaceStore,
  type MemoryWorkspaceStoreOptions,
} from './memory-workspace-store.js';

/** The three in-memory stores together. */
export interface MemoryAdapter {
  tokens: MemoryTokenStore;
  configs: MemoryConfigSource;
  workspaces: MemoryWorkspaceStore;
  audit: AuditLog;
}

/** Everything the memory adapter holds; share it between two adapters to simulate a reopen. */
export interface MemoryAdapterState {
  tokens: MemoryTokenState;
  configs: MemoryConfigState;
  workspaces: MemoryWorkspaceData;
  audit: AuditEntry[];
}

/** Fresh, empty state for {@link createMemoryAdapter}. */
export function createMemoryAdapterState(): MemoryAdapterState {
  return { tokens: createMemoryTokenState(), configs: createMemoryConfigState(), workspaces: new Map(), audit: [] };
}

/** All three contracts in process memory: the embedded default for tests and examples. */
export function createMemoryAdapter(
  options: Omit<MemoryWorkspaceStoreOptions, 'data'> & { state?: MemoryAdapterState } = {},
): MemoryAdapter {
  const state = options.state ?? createMemoryAdapterState();
  const { state: _state, ...workspaceOptions } = options;
  return {
    tokens: createMemoryTokenStore({ state: state.tokens }),
    configs: createMemoryConfigSource({ state: state.configs, ...(options.now ? { now: options.now } : {}) }),
    workspaces: createMemoryWorkspaceStore({ ...workspaceOptions, data: state.workspaces }),
    audit: createMemoryAuditLog({ entries: state.audit }),
  };
}
