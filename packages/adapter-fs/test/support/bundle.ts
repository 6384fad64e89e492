import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The child-process script of the multi-process tests. */
export const WORKER = source('../fixtures/worker.mjs');

/**
 * Bundles the adapter's current sources (and core's, via an alias) into one self-contained ESM file in
 * a private temp directory, for child processes to import. Private, so tests never race other
 * builds over `dist/`, and never run a stale build. Returns the bundle's path and a cleanup function.
 */
export async function buildBundle(): Promise<{ path: string; cleanup(): void }> {
  const outDir = mkdtempSync(join(tmpdir(), 'ocmt-fs-bundle-'));
  await build({
    entry: { index: source('../../src/index.ts') },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    outDir,
    config: false,
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    silent: true,
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.alias = {
        '@openclaw-mt/core/contracts': source('../../../core/src/contracts/index.ts'),
        '@openclaw-mt/core/testing': source('../../../core/src/testing/index.ts'),
        '@openclaw-mt/core/helpers': source('../../../core/src/helpers/index.ts'),
        '@openclaw-mt/core/tokens': source('../../../core/src/tokens/index.ts'),
        '@openclaw-mt/core/cloud': source('../../../core/src/cloud/index.ts'),
        '@openclaw-mt/core/transfer': source('../../../core/src/transfer/index.ts'),
        '@openclaw-mt/core/monitor': source('../../../core/src/monitor/index.ts'),
        '@openclaw-mt/core/audit': source('../../../core/src/audit/index.ts'),
        '@openclaw-mt/core': source('../../../core/src/index.ts'),
      };
    },
  });
  return { path: join(outDir, 'index.js'), cleanup: () => rmSync(outDir, { recursive: true, force: true }) };
}
