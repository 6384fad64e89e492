import { defineConfig } from 'tsup';

// Built so that a plain Node process (the `openclaw-mt` CLI) can load the adapter by module path.
export default defineConfig({
  entry: { index: 'src/index.ts', 'adapter-module': 'src/adapter-module.ts' },
  format: 'esm',
  target: 'node20',
  dts: false,
  clean: true,
  sourcemap: true,
});
