import {
  createMemoryAdapterState,
  createMemoryAuditLog,
  createMemoryConfigSource,
  createMemoryTokenStore,
  createMemoryWorkspaceStore,
  type MemoryAdapterState,
  type MemoryConfigSource,
  type MemoryTokenStore,
  type MemoryWorkspaceStore,
} from '@openclaw-mt/core/testing';
import { MultiTenantError } from '@openclaw-mt/core';
import type { AdapterUnderTest, ConformanceContext } from '@openclaw-mt/core/testing';

/** The memory stores a mutant starts from, and the state behind them. */
export interface ReferenceStores {
  tokens: MemoryTokenStore;
  configs: MemoryConfigSource;
  workspaces: MemoryWorkspaceStore;
  state: MemoryAdapterState;
  context: ConformanceContext;
}

interface Namespace {
  state: MemoryAdapterState;
  outage: { down: boolean };
}

const namespaces = new Map<string, Namespace>();

/** Every method of `store` fails with BACKEND_UNAVAILABLE while the namespace's backend is down. */
function failingWhenDown<T extends object>(store: T, outage: { down: boolean }): T {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(store)) {
    wrapped[key] =
      typeof value === 'function' && key !== 'close'
        ? (...args: unknown[]) => {
            if (outage.down) throw new MultiTenantError('BACKEND_UNAVAILABLE', 'The backend is down.', { retryAfterMs: 1_000 });
            return (value as (...a: unknown[]) => unknown)(...args);
          }
        : value;
  }
  return wrapped as T;
}

/**
 * The memory adapter with an outage switch: the reference every mutant breaks in exactly one way.
 * `workspaceQuota` lets a mutant enforce the quota itself (the stores then allow far more).
 */
export function referenceAdapter(
  context: ConformanceContext,
  mutate: (stores: ReferenceStores) => Partial<AdapterUnderTest> = () => ({}),
  options: { ownQuota?: boolean } = {},
): AdapterUnderTest {
  let namespace = namespaces.get(context.namespace);
  if (namespace === undefined) {
    namespace = { state: createMemoryAdapterState(), outage: { down: false } };
    namespaces.set(context.namespace, namespace);
  }
  const { state, outage } = namespace;
  const limits = options.ownQuota ? { ...context.limits, maxWorkspaceBytes: 1 << 40 } : context.limits;
  const stores: ReferenceStores = {
    tokens: failingWhenDown(createMemoryTokenStore({ state: state.tokens }), outage),
    configs: failingWhenDown(createMemoryConfigSource({ state: state.configs }), outage),
    workspaces: failingWhenDown(createMemoryWorkspaceStore({ template: context.template, limits, data: state.workspaces }), outage),
    state,
    context,
  };
  return {
    tokens: stores.tokens,
    configs: stores.configs,
    workspaces: stores.workspaces,
    audit: createMemoryAuditLog({ entries: state.audit }),
    async outage() {
      outage.down = true;
    },
    async cleanup() {
      namespaces.delete(context.namespace);
    },
    ...mutate(stores),
  };
}
