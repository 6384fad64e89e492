// Builds the workspace packages whose build is missing or older than their sources, so `npm test`,
// `npm start` and `npm run bench` work from a fresh clone without a separate build step. One line per
// package instead of the build tools' own output (shown only when a build fails).
//
//   node scripts/ensure-built.mjs               every package, with type declarations (tests, benchmarks)
//   node scripts/ensure-built.mjs --js <name>   only <name> and the workspace packages it depends on,
//                                               JavaScript only — what running it needs (`npm start`)
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { workspacePackages } from './workspace-packages.mjs';

const tsup = join(dirname(createRequire(import.meta.url).resolve('tsup/package.json')), 'dist', 'cli-default.js');

const jsFlag = process.argv.indexOf('--js');
const target = jsFlag === -1 ? undefined : process.argv[jsFlag + 1];

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const buildable = workspacePackages().filter((pkg) => pkg.manifest.scripts?.build !== undefined && existsSync(join(pkg.dir, 'src')));
const byName = new Map(buildable.map((pkg) => [pkg.name, pkg]));

/** `name` and every workspace package it needs at run time, in workspace (dependency) order. */
function closure(name) {
  const needed = new Set();
  const visit = (current) => {
    if (needed.has(current) || !byName.has(current)) return;
    needed.add(current);
    const { dependencies = {}, peerDependencies = {} } = byName.get(current).manifest;
    for (const dependency of Object.keys({ ...dependencies, ...peerDependencies })) visit(dependency);
  };
  visit(name);
  return buildable.filter((pkg) => needed.has(pkg.name));
}

if (target !== undefined && !byName.has(target)) {
  process.stderr.write(`ensure-built: no workspace package named ${target}\n`);
  process.exit(2);
}
const wanted = target === undefined ? buildable : closure(target);

/** Builds one package; resolves with its exit code, captured output and duration. */
function build(pkg) {
  // A full build runs the package's own build script; a JavaScript-only one runs its tsup config without declarations.
  const [command, args] = target === undefined ? ['npm', ['run', 'build', '--silent']] : [process.execPath, [tsup, '--no-dts', '--silent']];
  const began = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: pkg.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: 1, output: String(error), seconds: 0 }));
    child.on('close', (code) => resolve({ code: code ?? 1, output, seconds: (performance.now() - began) / 1000 }));
  });
}

/** Prints one package's line, or its build output and exits when it failed. */
function report(pkg, { code, output, seconds }) {
  if (code !== 0) {
    process.stderr.write(`  ${pkg.folder} failed:\n${output}\n`);
    process.exit(code);
  }
  process.stderr.write(`  ${pkg.folder} ${seconds.toFixed(1)} s\n`);
}

/** Whether `pkg` needs building: no output yet (JavaScript, or declarations for a full build) or sources newer. */
function isStale(pkg) {
  const built = join(pkg.dir, 'dist', 'index.js');
  if (!existsSync(built)) return true;
  const types = pkg.manifest.exports?.['.']?.types;
  if (target === undefined && typeof types === 'string' && !existsSync(join(pkg.dir, types))) return true;
  const inputs = Math.max(newest(join(pkg.dir, 'src')), statSync(join(pkg.dir, 'package.json')).mtimeMs);
  return inputs > statSync(built).mtimeMs;
}

const stale = wanted.filter(isStale);
if (stale.length > 0) {
  // A full build rebuilds from the first stale package on: its dependants' declarations are stale too.
  const first = wanted.indexOf(stale[0]);
  const queue = target === undefined ? wanted.slice(first) : stale;
  const what = target === undefined ? 'with type declarations, about 2 minutes on 2 cores' : 'JavaScript only, a few seconds';
  process.stderr.write(`Building ${queue.map((pkg) => pkg.folder).join(', ')} (${what})…\n`);
  const started = performance.now();
  // JavaScript-only builds do not read each other's output, so they run at once; full builds in order.
  if (target === undefined) for (const pkg of queue) report(pkg, await build(pkg));
  else for (const [pkg, result] of await Promise.all(queue.map(async (pkg) => [pkg, await build(pkg)]))) report(pkg, result);
  process.stderr.write(`Built in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
}
