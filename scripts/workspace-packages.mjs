// The packages of this repository, read from the root package.json's `workspaces` (folders or
// `dir/*` globs) in that order — so a package added there is covered by every build, packaging and
// release check without naming it anywhere else.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** Every workspace package, in the order of the root `workspaces` list. */
export function workspacePackages() {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const folders = workspaces.flatMap((workspace) =>
    workspace.endsWith('/*')
      ? readdirSync(join(root, workspace.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${workspace.slice(0, -2)}/${entry.name}`)
          .sort()
      : [workspace],
  );
  return folders
    .filter((folder) => existsSync(join(root, folder, 'package.json')))
    .map((folder) => {
      const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'));
      return { folder, dir: join(root, folder), name: manifest.name, version: manifest.version, manifest };
    });
}

/** The workspace packages that are published (not `private`). */
export function publicPackages() {
  return workspacePackages().filter((pkg) => pkg.manifest.private !== true);
}
