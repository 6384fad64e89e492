import { randomBytes } from 'node:crypto';
import type { AdapterUnderTest, ConformanceCase, ConformanceContext, ConformanceOptions, Harness } from './conformance-kit.js';
import { auditLogCases } from './audit-log-cases.js';
import { configSourceCases } from './config-source-cases.js';
import { coordinatorCases } from './coordinator-cases.js';
import { sampleTemplate } from './fixtures.js';
import { configSourceEdgeCases } from './config-source-edge-cases.js';
import { outageCases } from './outage-cases.js';
import { tokenStoreCases } from './token-store-cases.js';
import { tokenStoreEdgeCases } from './token-store-edge-cases.js';
import { workspaceStoreCases } from './workspace-store-cases.js';
import { workspaceStoreEdgeCases } from './workspace-store-edge-cases.js';

/** Every conformance case, in the order they run. */
export const conformanceCases: readonly ConformanceCase[] = [
  ...tokenStoreCases,
  ...tokenStoreEdgeCases,
  ...configSourceCases,
  ...configSourceEdgeCases,
  ...workspaceStoreCases,
  ...workspaceStoreEdgeCases,
  ...outageCases,
  ...coordinatorCases,
  ...auditLogCases,
];

/** Limits the kit gives adapters: small, so size checks run fast. */
const KIT_LIMITS = Object.freeze({ maxFileBytes: 64 * 1024, maxWorkspaceBytes: 512 * 1024 });

async function closeAll(adapter: AdapterUnderTest): Promise<void> {
  for (const store of [adapter.audit, adapter.coordinator, adapter.workspaces, adapter.configs, adapter.tokens]) {
    try {
      await store?.close?.();
    } catch {
      // Closing twice or after a failed test must not hide the test's own result.
    }
  }
  await adapter.cleanup?.();
}

/** Reports a case the adapter's capabilities rule out as skipped, when the runner can say so. */
function skipRunning(options: ConformanceOptions, context: unknown, reason: string): void {
  if (options.runner.skip !== undefined) {
    options.runner.skip(context, reason);
    return;
  }
  const skip = (context as { skip?: unknown } | undefined)?.skip;
  if (typeof skip === 'function') skip.call(context, reason);
}

/**
 * Registers the conformance suite for an adapter with your test runner. Each case gets fresh stores
 * from `create` in a fresh namespace. Cases the adapter's capability flags (or missing stores) rule
 * out are reported as skipped, with the reason, where the runner supports it; cases named in `skip`
 * are reported as skipped the same way.
 *
 * @example
 * ```ts
 * import { describe, test } from 'vitest';
 * import { runAdapterConformance } from '@openclaw-mt/core/testing';
 * runAdapterConformance({ name: 'my-adapter', runner: { describe, test }, create: async (ctx) => ({ tokens: … }) });
 * ```
 */
export function runAdapterConformance(options: ConformanceOptions): void {
  const skip = new Set(options.skip ?? []);
  const timeout = options.timeoutMs ?? 30_000;
  options.runner.describe(`openclaw-mt conformance: ${options.name}`, () => {
    for (const testCase of conformanceCases) {
      if (skip.has(testCase.name)) {
        options.runner.test(testCase.name, async (runnerContext?: unknown) =>
          skipRunning(options, runnerContext, 'skipped by the adapter'),
        );
        continue;
      }
      options.runner.test(
        testCase.name,
        async (runnerContext?: unknown) => {
          const context: ConformanceContext = {
            namespace: `ns-${randomBytes(6).toString('hex')}`,
            template: sampleTemplate('kit'),
            limits: KIT_LIMITS,
            nodeId: `node-${randomBytes(3).toString('hex')}`,
          };
          const adapter = await options.create(context);
          const opened: AdapterUnderTest[] = [adapter];
          const harness: Harness = {
            adapter,
            context,
            async reopen(overrides = {}) {
              const again = await options.create({ ...context, ...overrides });
              opened.push(again);
              return again;
            },
          };
          try {
            const reason = testCase.requires?.(adapter);
            if (reason !== undefined) return skipRunning(options, runnerContext, reason);
            await testCase.run(harness);
          } finally {
            for (const item of opened.reverse()) await closeAll(item);
          }
        },
        timeout,
      );
    }
  });
}
