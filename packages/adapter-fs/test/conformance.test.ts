import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { runAdapterConformance } from '@openclaw-mt/core/testing';
import { createFsAdapter } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('conformance');
const base = dirs.make();
afterAll(() => dirs.cleanup());

runAdapterConformance({
  name: 'fs',
  runner: { describe, test },
  async create({ namespace, template, limits }) {
    // One directory per namespace: a second create() with the same namespace reopens the same files.
    const dataDir = join(base, namespace);
    const adapter = createFsAdapter({ dataDir, template, limits, pollIntervalMs: 50 });
    return {
      tokens: adapter.tokens,
      configs: adapter.configs,
      workspaces: adapter.workspaces,
      audit: adapter.audit,
      async cleanup() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
});
