import { createMemoryAdapter, TenantManager, type TenantManagerOptions, type TokenStore } from '@openclaw-mt/core';

/** A memory adapter whose token lookups are counted and can be made to fail or stall. */
export function countingAdapter() {
  const adapter = createMemoryAdapter();
  const control = { lookups: 0, fail: false, gate: undefined as Promise<void> | undefined };
  const tokens: TokenStore = {
    ...adapter.tokens,
    async get(hash) {
      control.lookups++;
      if (control.gate) await control.gate;
      if (control.fail) throw new Error('store down');
      return adapter.tokens.get(hash);
    },
  };
  return { ...adapter, tokens, control, memoryTokens: adapter.tokens };
}

/** A manager over a counting memory adapter, with quiet logging. */
export function createTestManager(options: Partial<TenantManagerOptions> = {}) {
  const adapter = countingAdapter();
  const manager = new TenantManager({
    tokens: adapter.tokens,
    configs: adapter.configs,
    workspaces: adapter.workspaces,
    idleTimeoutMs: 0,
    ...options,
  });
  return { manager, adapter };
}

/** A promise with its resolve function, for gating stores in race tests. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
