import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources of every package; only tests that spawn the CLI use builds.
const alias = {
  '@openclaw-mt/core/contracts': source('./packages/core/src/contracts/index.ts'),
  '@openclaw-mt/core/testing': source('./packages/core/src/testing/index.ts'),
  '@openclaw-mt/core/helpers': source('./packages/core/src/helpers/index.ts'),
  '@openclaw-mt/core/tokens': source('./packages/core/src/tokens/index.ts'),
  '@openclaw-mt/core/cloud': source('./packages/core/src/cloud/index.ts'),
  '@openclaw-mt/core/transfer': source('./packages/core/src/transfer/index.ts'),
  '@openclaw-mt/core/monitor': source('./packages/core/src/monitor/index.ts'),
  '@openclaw-mt/core/audit': source('./packages/core/src/audit/index.ts'),
  '@openclaw-mt/core': source('./packages/core/src/index.ts'),
  '@openclaw-mt/adapter-fs': source('./packages/adapter-fs/src/index.ts'),
  '@openclaw-mt/adapter-redis': source('./packages/adapter-redis/src/index.ts'),
  '@openclaw-mt/model-gateway': source('./packages/model-gateway/src/index.ts'),
  '@openclaw-mt/gateway/protocol': source('./packages/gateway/src/protocol/index.ts'),
  '@openclaw-mt/gateway/config': source('./packages/gateway/src/config/index.ts'),
  '@openclaw-mt/gateway/admin': source('./packages/gateway/src/admin/index.ts'),
  '@openclaw-mt/gateway': source('./packages/gateway/src/index.ts'),
  '@openclaw-mt/runtime-openclaw': source('./packages/runtime-openclaw/src/index.ts'),
};

const project = (name: string, root: string) => ({
  extends: true as const,
  test: { name, root, include: ['test/**/*.test.ts'] },
});

export default defineConfig({
  resolve: { alias },
  test: {
    // The default reporter, plus what the run covers and its ten slowest tests (read in CI logs).
    reporters: ['default', './scripts/timing-reporter.ts'],
    // One worker per core, at least two: most test time is spent waiting on child processes and sockets,
    // so even a 2-core machine runs two files at once (Vitest's default there would be one).
    maxWorkers: Math.max(2, availableParallelism()),
    // Hang guards, not performance limits: with two files at once on 2 cores, a test that spawns several CLI
    // processes needs headroom on a busy machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts', 'examples/*/src/**/*.ts'],
    },
    projects: [
      project('core', './packages/core'),
      project('adapter-fs', './packages/adapter-fs'),
      project('adapter-redis', './packages/adapter-redis'),
      project('model-gateway', './packages/model-gateway'),
      project('gateway', './packages/gateway'),
      // The protocol tests again, through a node that owns no tenant: every session is forwarded to its owner.
      {
        extends: true as const,
        test: {
          name: 'gateway-forwarded',
          root: './packages/gateway',
          include: ['test/handshake.test.ts', 'test/workspace-runtime.test.ts', 'test/lifecycle.test.ts', 'test/connection-quota.test.ts'],
          env: { OPENCLAW_MT_GATEWAY_TOPOLOGY: 'forwarded' },
        },
      },
      project('runtime-openclaw', './packages/runtime-openclaw'),
      project('cli', './packages/cli'),
      project('example-cloud-backend', './examples/cloud-backend'),
      project('example-custom-adapter', './examples/custom-adapter'),
      project('example-host-gateway', './examples/host-gateway'),
      // Packaging and release: the packages as npm would ship them, a fresh clone, versioning.
      project('release', '.'),
    ],
  },
});
