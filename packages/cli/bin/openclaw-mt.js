#!/usr/bin/env node
// Launcher kept outside dist/ so npm links the command even before the first build.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('openclaw-mt is not built yet: run `npm run build` (or `npm start`) in the repository first.\n');
  process.exit(1);
}
await import(entry.href);
