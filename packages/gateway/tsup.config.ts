import { defineConfig } from 'tsup';

export default defineConfig({
  // Each subpath is its own entry, so its types ship under a stable name (`@openclaw-mt/gateway/<subpath>`).
  entry: {
    index: 'src/index.ts',
    'protocol/index': 'src/protocol/index.ts',
    'config/index': 'src/config/index.ts',
    'admin/index': 'src/admin/index.ts',
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
