import { defineConfig } from 'tsup';

export default defineConfig({
  // Each subpath is its own entry, so its types ship under a stable name (`@openclaw-mt/core/<subpath>`).
  entry: {
    index: 'src/index.ts',
    'contracts/index': 'src/contracts/index.ts',
    'testing/index': 'src/testing/index.ts',
    'helpers/index': 'src/helpers/index.ts',
    'tokens/index': 'src/tokens/index.ts',
    'cloud/index': 'src/cloud/index.ts',
    'transfer/index': 'src/transfer/index.ts',
    'monitor/index': 'src/monitor/index.ts',
    'audit/index': 'src/audit/index.ts',
  },
  format: 'esm',
  target: 'node20',
  // Declarations come from tsc (tsconfig.build.json), one .d.ts per source file under its own name: public
  // types live at a stable path instead of a hash-named chunk.
  dts: false,
  clean: true,
  sourcemap: true,
  // Every third-party import stays an import of a declared dependency: nothing from node_modules is bundled.
  skipNodeModulesBundle: true,
});
