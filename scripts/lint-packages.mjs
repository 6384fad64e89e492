// Packaging checks for every public workspace package (read from the root `workspaces`, so a new
// package is covered without naming it): publint (what npm will see: exports, files, fields) and
// Are the Types Wrong (whether TypeScript resolves each export's types under node16 and bundler
// resolution; ESM only, so CommonJS resolution is not expected). Needs the packages built.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { publicPackages, root } from './workspace-packages.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
const checks = [
  { name: 'publint', args: (dir) => [bin('publint'), 'run', dir, '--strict'] },
  { name: 'attw', args: (dir) => [bin('attw'), '--pack', dir, '--profile', 'esm-only', '--no-emoji'] },
];

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

let failed = 0;
for (const pkg of publicPackages()) {
  for (const check of checks) {
    const { code, output } = await run(check.args(pkg.dir));
    if (code === 0) {
      process.stdout.write(`ok    ${check.name} ${pkg.name}\n`);
    } else {
      failed++;
      process.stdout.write(`FAIL  ${check.name} ${pkg.name}\n${output}\n`);
    }
  }
}
if (failed > 0) {
  process.stdout.write(`${failed} packaging check(s) failed.\n`);
  process.exit(1);
}
