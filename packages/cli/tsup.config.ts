import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: 'esm',
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  // Every third-party import stays an import of a declared dependency: nothing from node_modules is bundled.
  skipNodeModulesBundle: true,
});
