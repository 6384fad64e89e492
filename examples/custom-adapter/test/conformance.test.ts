import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { runAdapterConformance } from '@openclaw-mt/core/testing';
import { createSqliteAdapter } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'openclaw-mt-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Same namespace → same file, so the kit can reopen it and watch changes made by a second adapter.
// The namespace is hashed because it is not guaranteed to be a safe file name.
const fileFor = (namespace: string): string => join(root, `${createHash('sha256').update(namespace).digest('hex').slice(0, 32)}.sqlite`);

runAdapterConformance({
  name: 'sqlite (example custom adapter)',
  runner: { describe, test },
  create: async ({ namespace, template, limits }) => {
    const filename = fileFor(namespace);
    // A short poll keeps the kit's watch cases fast; production would keep the default.
    const adapter = createSqliteAdapter({ filename, template, limits, pollIntervalMs: 20 });
    return {
      tokens: adapter.tokens,
      configs: adapter.configs,
      workspaces: adapter.workspaces,
      async cleanup() {
        await adapter.close();
        await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${filename}${suffix}`, { force: true })));
      },
    };
  },
});
