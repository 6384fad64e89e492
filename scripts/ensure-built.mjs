// Builds the workspace packages when a build is missing or older than its sources, so `npm test` and
// `npm start` work from a fresh clone without a separate build step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

// Workspace globs ("examples/*") expand to their folders; only packages with a build script count.
const folders = workspaces.flatMap((workspace) =>
  workspace.endsWith('/*')
    ? readdirSync(join(root, workspace.slice(0, -2)), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${workspace.slice(0, -2)}/${entry.name}`)
    : [workspace],
);

const stale = folders.filter((workspace) => {
  const dir = join(root, workspace);
  const built = join(dir, 'dist', 'index.js');
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest) || JSON.parse(readFileSync(manifest, 'utf8')).scripts?.build === undefined) return false;
  if (!existsSync(join(dir, 'src'))) return false;
  if (!existsSync(built)) return true;
  const inputs = Math.max(newest(join(dir, 'src')), statSync(join(dir, 'package.json')).mtimeMs);
  return inputs > statSync(built).mtimeMs;
});

if (stale.length > 0) {
  process.stderr.write(`Building ${stale.join(', ')}…\n`);
  // Build everything in order: a stale core means its dependants' type declarations are stale too.
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
