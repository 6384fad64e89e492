import { describe, test } from 'vitest';
import {
  createMemoryAdapterState,
  createMemoryAuditLog,
  createMemoryConfigSource,
  createMemoryTokenStore,
  createMemoryWorkspaceStore,
} from '@openclaw-mt/core/testing';
import { runAdapterConformance } from '@openclaw-mt/core/testing';

const states = new Map<string, ReturnType<typeof createMemoryAdapterState>>();

runAdapterConformance({
  name: 'memory',
  runner: { describe, test },
  async create({ namespace, template, limits }) {
    const state = states.get(namespace) ?? createMemoryAdapterState();
    states.set(namespace, state);
    return {
      tokens: createMemoryTokenStore({ state: state.tokens }),
      configs: createMemoryConfigSource({ state: state.configs }),
      workspaces: createMemoryWorkspaceStore({ template, limits, data: state.workspaces }),
      audit: createMemoryAuditLog({ entries: state.audit }),
      async cleanup() {
        states.delete(namespace);
      },
    };
  },
});
