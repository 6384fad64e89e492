// Publishes the public workspace packages (the root `workspaces` list, not hard-coded names).
//
//   npm run release               clean build, packaging checks, then `changeset publish`: every public
//                                 package whose version is not on npm yet is published, and tagged in git
//   npm run release -- --dry-run  the same checks, then `npm publish --dry-run` for each package: what
//                                 would be published, without publishing (CI runs this)
//
// Versions come first: `npm run version-packages` turns the pending changesets into versions and
// changelogs. A real release refuses to run while changesets are pending or the tree is not clean.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { publicPackages, root } from './workspace-packages.mjs';

const dryRun = process.argv.includes('--dry-run');

function step(title, command, args) {
  process.stdout.write(`\n▶ ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`release: ${title} failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status ?? 1);
  }
}

const pending = readdirSync(join(root, '.changeset')).filter((file) => file.endsWith('.md') && file !== 'README.md');
if (pending.length > 0) {
  const message = `${pending.length} pending changeset(s) (${pending.join(', ')}): run \`npm run version-packages\` and commit first.`;
  if (!dryRun) {
    process.stderr.write(`release: ${message}\n`);
    process.exit(1);
  }
  process.stdout.write(`note: ${message}\n`);
}
if (!dryRun) {
  const status = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  if (status.status !== 0 || status.stdout.trim() !== '') {
    process.stderr.write('release: the working tree is not clean; commit or stash first.\n');
    process.exit(1);
  }
}

const packages = publicPackages();
process.stdout.write(`Releasing ${packages.map((pkg) => `${pkg.name}@${pkg.version}`).join(', ')}${dryRun ? ' (dry run)' : ''}\n`);

// A dry run may reuse fresh builds; a real release always builds from scratch.
if (dryRun) step('build what is stale', process.execPath, ['scripts/ensure-built.mjs']);
else step('build', 'npm', ['run', 'build', '--silent']);
step('packaging checks (publint, Are the Types Wrong)', process.execPath, ['scripts/lint-packages.mjs']);

if (dryRun) {
  for (const pkg of packages) {
    process.stdout.write(`\n▶ npm publish --dry-run ${pkg.name}\n`);
    const result = spawnSync('npm', ['publish', '--dry-run', '--access', 'public', '--workspace', pkg.folder], {
      cwd: root,
      encoding: 'utf8',
    });
    process.stdout.write(result.stdout + result.stderr);
    // npm rewrites a manifest it finds wrong while publishing; what it would publish must be what is committed.
    if (result.status !== 0 || /auto-corrected/.test(result.stderr)) {
      process.stderr.write(`release: npm publish --dry-run of ${pkg.name} failed or had to correct its package.json (see above).\n`);
      process.exit(result.status || 1);
    }
  }
  process.stdout.write('\nDry run complete: nothing was published.\n');
} else {
  step('changeset publish', process.execPath, [join(root, 'node_modules', '@changesets', 'cli', 'bin.js'), 'publish']);
  process.stdout.write('\nPublished. Push the new tags: git push --follow-tags\n');
}
