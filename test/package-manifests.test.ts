import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { publicPackages, workspacePackages } from '../scripts/workspace-packages.mjs';

const packages = publicPackages();
const workspaceNames = new Set(workspacePackages().map((pkg) => pkg.name));
const builtins = new Set(builtinModules);

function files(dir: string, suffix: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name), suffix) : suffix.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for relative and built-in ones. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!)) {
    return undefined;
  }
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every module a file imports (static, dynamic, type-only, `export … from`), comments ignored. */
function importsOf(path: string): string[] {
  return ts.preProcessFile(readFileSync(path, 'utf8'), true, true).importedFiles.map((file) => file.fileName);
}

test('the public packages are found from the root workspaces list', () => {
  expect(packages.map((pkg) => pkg.name)).toEqual(expect.arrayContaining(['@openclaw-mt/core', 'openclaw-mt']));
  expect(packages.every((pkg) => pkg.manifest.private !== true)).toBe(true);
});

describe.each(packages.map((pkg) => [pkg.name, pkg] as const))('%s', (_name, pkg) => {
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.manifest.dependencies ?? {}),
    ...Object.keys(pkg.manifest.peerDependencies ?? {}),
  ]);

  test('every package its sources import is a declared dependency or peer (not a devDependency)', () => {
    const undeclared = files(join(pkg.dir, 'src'), /\.ts$/).flatMap((file) =>
      importsOf(file)
        .map(packageOf)
        .filter((name): name is string => name !== undefined && !declared.has(name))
        .map((name) => `${relative(pkg.dir, file)} imports ${name}`),
    );
    expect(undeclared).toEqual([]);
  });

  test('the build bundles nothing from node_modules and imports only declared packages', () => {
    const built = files(join(pkg.dir, 'dist'), /\.(js|d\.ts)$/);
    expect(built.length, `${pkg.folder} is not built`).toBeGreaterThan(0);
    for (const file of built) {
      const text = readFileSync(file, 'utf8');
      // esbuild marks each bundled module with a comment naming its path.
      expect(text, `${relative(pkg.dir, file)} bundles third-party code`).not.toMatch(/^\/\/ (\.\.\/)*node_modules\//m);
      const undeclared = importsOf(file)
        .map(packageOf)
        .filter((name) => name !== undefined && !declared.has(name));
      expect(undeclared, relative(pkg.dir, file)).toEqual([]);
    }
  });

  test('one core for a host: a library takes core as a peer; only the CLI, an application, depends on it', () => {
    const internal = Object.keys(pkg.manifest.dependencies ?? {}).filter((name) => workspaceNames.has(name));
    if (pkg.manifest.bin === undefined) expect(internal).toEqual([]);
    for (const [name, range] of Object.entries(pkg.manifest.peerDependencies ?? {})) {
      if (workspaceNames.has(name)) expect(range, `${name} peer range`).toMatch(/^\^\d+(\.\d+\.\d+)?$/);
    }
  });

  test('it ships its LICENSE, a description, the repository and engines', () => {
    expect(readFileSync(join(pkg.dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const manifest = pkg.manifest as typeof pkg.manifest & Record<string, unknown>;
    expect(manifest.license).toBe('MIT');
    expect(manifest.description).toEqual(expect.any(String));
    expect(manifest.engines).toEqual({ node: '>=20.19' });
    expect(manifest.repository).toMatchObject({ directory: pkg.folder });
  });
});

test('the public packages share one version', () => {
  expect(new Set(packages.map((pkg) => pkg.version)).size).toBe(1);
});
