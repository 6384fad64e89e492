import { describe, expect, test } from 'vitest';
import { createMemoryAdapter, type WorkspaceStore } from '@openclaw-mt/core';
import { createMemoryWorkspaceStore } from '@openclaw-mt/core/testing';
import { conformanceCases, runAdapterConformance, sampleTemplate, type AdapterUnderTest, type Harness } from '@openclaw-mt/core/testing';

/** Runs one named case against an adapter and reports whether it failed. */
async function fails(caseName: string, adapter: AdapterUnderTest): Promise<boolean> {
  const testCase = conformanceCases.find((item) => item.name === caseName);
  if (testCase === undefined) throw new Error(`no case named ${caseName}`);
  const harness: Harness = {
    adapter,
    context: {
      namespace: 'n',
      template: sampleTemplate('kit'),
      limits: { maxFileBytes: 64 * 1024, maxWorkspaceBytes: 512 * 1024 },
      nodeId: 'a',
    },
    reopen: async () => adapter,
  };
  try {
    await testCase.run(harness);
    return false;
  } catch {
    return true;
  }
}

/** A workspace store that forgets to validate names: a broken adapter the kit must catch. */
function careless(store: WorkspaceStore): WorkspaceStore {
  return {
    ...store,
    async open(id, options) {
      const handle = await store.open(id, options);
      return { ...handle, read: async (name) => (name.includes('..') ? new Uint8Array() : handle.read(name)) };
    },
  };
}

describe('the conformance kit itself', () => {
  test('catches a store that lets traversal names through', async () => {
    const workspaces = careless(createMemoryWorkspaceStore({ template: sampleTemplate('kit') }));
    expect(await fails('workspaces: hostile names are refused with PATH_INVALID and touch nothing', { workspaces })).toBe(true);
  });

  test('catches a config source that loses concurrent updates', async () => {
    const { configs } = createMemoryAdapter();
    const lossy = {
      ...configs,
      async set(id: string, update: Parameters<typeof configs.set>[1]) {
        const before = await configs.get(id);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return configs
          .put({ tenantId: id, status: 'active', config: update.config ?? {}, version: (before?.version ?? 0) + 1, updatedAt: 0 })
          .then(async () => (await configs.get(id))!);
      },
    };
    expect(await fails('configs: concurrent sets on one tenant lose no update', { configs: lossy })).toBe(true);
  });

  test('catches a token store whose listing leaks other tenants', async () => {
    const { tokens } = createMemoryAdapter();
    const leaky = { ...tokens, listByTenant: async () => [...(await tokens.listByTenant('x'))] };
    expect(await fails('tokens: listByTenant returns exactly that tenant’s records (isolation)', { tokens: leaky })).toBe(true);
  });

  test('passes the reference adapter on the same cases', async () => {
    const adapter = createMemoryAdapter({
      template: sampleTemplate('kit'),
      limits: { maxFileBytes: 64 * 1024, maxWorkspaceBytes: 512 * 1024 },
    });
    expect(await fails('workspaces: hostile names are refused with PATH_INVALID and touch nothing', adapter)).toBe(false);
    expect(await fails('configs: concurrent sets on one tenant lose no update', adapter)).toBe(false);
  });
});

describe('skips', () => {
  test('a case named in skip is reported as skipped through the runner, with a reason, not as a passing test', async () => {
    const registered = new Map<string, (context?: unknown) => Promise<void>>();
    const skipped: Array<{ name: string; reason: string }> = [];
    const name = 'tokens: get of an unknown hash is undefined';
    runAdapterConformance({
      name: 'skip-check',
      runner: { describe: (_name, body) => body(), test: (caseName, body) => void registered.set(caseName, body) },
      create: async () => createMemoryAdapter(),
      skip: [name],
    });
    expect(registered.has(name)).toBe(true);
    await registered.get(name)!({ skip: (reason: string) => skipped.push({ name, reason }) });
    expect(skipped).toEqual([{ name, reason: 'skipped by the adapter' }]);
  });
});
