import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { publicPackages, root, workspacePackages } from '../scripts/workspace-packages.mjs';
import { exec } from './support/processes.js';

// The range rules changesets itself applies, from the copy it uses.
const changesetsRequire = createRequire(createRequire(import.meta.url).resolve('@changesets/cli/package.json'));
const semver = changesetsRequire('semver') as {
  satisfies(version: string, range: string): boolean;
  inc(version: string, type: string): string;
};

const scratch = mkdtempSync(join(tmpdir(), 'openclaw-mt-changeset-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the repository's manifests and changeset config, without pending changesets. */
function copyOfRepository(): string {
  const dir = mkdtempSync(join(scratch, 'repo-'));
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, '.changeset'));
  cpSync(join(root, '.changeset', 'config.json'), join(dir, '.changeset', 'config.json'));
  for (const pkg of workspacePackages()) {
    mkdirSync(join(dir, pkg.folder), { recursive: true });
    cpSync(join(pkg.dir, 'package.json'), join(dir, pkg.folder, 'package.json'));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function manifests(dir: string) {
  return workspacePackages().map((pkg) => ({
    ...pkg,
    after: JSON.parse(readFileSync(join(dir, pkg.folder, 'package.json'), 'utf8')) as typeof pkg.manifest,
  }));
}

async function version(dir: string, changeset: string): Promise<void> {
  writeFileSync(join(dir, '.changeset', 'sample-change.md'), changeset);
  const cli = join(dirname(createRequire(import.meta.url).resolve('@changesets/cli/package.json')), 'bin.js');
  const result = await exec(process.execPath, [cli, 'version'], { cwd: dir });
  expect(result.code, result.stderr + result.stdout).toBe(0);
}

test('a minor change to core moves every public package to the same next minor, keeps peers valid, leaves the examples alone', async () => {
  const dir = copyOfRepository();
  const current = publicPackages()[0]!.version;
  await version(dir, "---\n'@openclaw-mt/core': minor\n---\n\nA sample change.\n");
  const next = semver.inc(current, 'minor');
  for (const pkg of manifests(dir)) {
    if (pkg.manifest.private === true) {
      expect(pkg.after.version, `${pkg.name} is private and keeps its version`).toBe(pkg.version);
      expect(existsSync(join(dir, pkg.folder, 'CHANGELOG.md')), `${pkg.name} gets no changelog`).toBe(false);
      continue;
    }
    expect(pkg.after.version, pkg.name).toBe(next);
    for (const [name, range] of Object.entries({ ...pkg.after.dependencies, ...pkg.after.peerDependencies })) {
      const dependency = manifests(dir).find((candidate) => candidate.name === name);
      if (dependency !== undefined) expect(semver.satisfies(dependency.after.version, range), `${pkg.name} → ${name}@${range}`).toBe(true);
    }
  }
});

test('a breaking change to one adapter moves them all to the next major, peers following', async () => {
  const dir = copyOfRepository();
  const current = publicPackages()[0]!.version;
  const adapter = publicPackages().find((pkg) => pkg.manifest.peerDependencies?.['@openclaw-mt/core'] !== undefined)!;
  await version(dir, `---\n'${adapter.name}': major\n---\n\nA breaking change.\n`);
  const next = semver.inc(current, 'major');
  for (const pkg of manifests(dir).filter((candidate) => candidate.manifest.private !== true)) {
    expect(pkg.after.version, pkg.name).toBe(next);
    const peer = pkg.after.peerDependencies?.['@openclaw-mt/core'];
    if (peer !== undefined) expect(semver.satisfies(next, peer), `${pkg.name} peer ${peer}`).toBe(true);
  }
});
