import { conformanceCases, type AdapterUnderTest, type ConformanceContext, type Harness } from '@openclaw-mt/core/testing';
import { sampleTemplate } from '@openclaw-mt/core/testing';

/** The kit's own limits, as `runAdapterConformance` gives them. */
export const KIT_LIMITS = Object.freeze({ maxFileBytes: 64 * 1024, maxWorkspaceBytes: 512 * 1024 });

/** What running the kit on one adapter found. */
export interface KitVerdict {
  /** The first failing case and its message, or undefined when every case passed. */
  failed?: { name: string; message: string };
  ran: number;
}

let counter = 0;

async function closeAll(adapter: AdapterUnderTest): Promise<void> {
  for (const store of [adapter.audit, adapter.coordinator, adapter.workspaces, adapter.configs, adapter.tokens])
    await Promise.resolve(store?.close?.()).catch(() => undefined);
  await adapter.cleanup?.();
}

/**
 * Runs the conformance cases on the adapter `create` builds, as `runAdapterConformance` does, and stops
 * at the first failing case. Cases whose name starts with `first` run first, so a mutant is usually
 * caught in its first few cases; a mutant that survives still runs every case.
 */
export async function runKit(create: (context: ConformanceContext) => Promise<AdapterUnderTest>, first = ''): Promise<KitVerdict> {
  const ordered = [
    ...conformanceCases.filter((c) => c.name.startsWith(first)),
    ...conformanceCases.filter((c) => !c.name.startsWith(first)),
  ];
  let ran = 0;
  for (const testCase of ordered) {
    const context: ConformanceContext = {
      namespace: `mutant-${++counter}`,
      template: sampleTemplate('kit'),
      limits: KIT_LIMITS,
      nodeId: `node-${counter}`,
    };
    const adapter = await create(context);
    const opened: AdapterUnderTest[] = [adapter];
    const harness: Harness = {
      adapter,
      context,
      async reopen(overrides = {}) {
        const again = await create({ ...context, ...overrides });
        opened.push(again);
        return again;
      },
    };
    try {
      if (testCase.requires?.(adapter) !== undefined) continue;
      ran++;
      await testCase.run(harness);
    } catch (error) {
      return { failed: { name: testCase.name, message: (error as Error).message }, ran };
    } finally {
      for (const item of opened.reverse()) await closeAll(item);
    }
  }
  return { ran };
}
