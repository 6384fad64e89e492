import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources of every package; only tests that spawn the CLI use builds.
const alias = {
  '@openclaw-mt/core/testing': source('./packages/core/src/testing/index.ts'),
  '@openclaw-mt/core': source('./packages/core/src/index.ts'),
  '@openclaw-mt/adapter-fs': source('./packages/adapter-fs/src/index.ts'),
  '@openclaw-mt/adapter-redis': source('./packages/adapter-redis/src/index.ts'),
  '@openclaw-mt/gateway': source('./packages/gateway/src/index.ts'),
};

const project = (name: string, root: string) => ({
  extends: true as const,
  test: { name, root, include: ['test/**/*.test.ts'] },
});

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts', 'examples/*/src/**/*.ts'],
    },
    projects: [
      project('core', './packages/core'),
      project('adapter-fs', './packages/adapter-fs'),
      project('adapter-redis', './packages/adapter-redis'),
      project('gateway', './packages/gateway'),
      project('cli', './packages/cli'),
      project('example-cloud-backend', './examples/cloud-backend'),
      project('example-custom-adapter', './examples/custom-adapter'),
      project('example-host-gateway', './examples/host-gateway'),
    ],
  },
});
