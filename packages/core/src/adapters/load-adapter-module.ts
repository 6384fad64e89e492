import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AdapterFactory } from '../contracts/adapter-factory.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** Whether `specifier` names a file (`./x.js`, `../x`, `/abs/x.js`) rather than a package. */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
}

function isAdapterFactory(value: unknown): value is AdapterFactory {
  const candidate = value as Partial<AdapterFactory> | null | undefined;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.name === 'string' && typeof candidate.open === 'function';
}

/** Where to import `specifier` from: a path relative to `fromDir`, or a package installed where `fromDir` or the host can see it. */
function resolveSpecifier(specifier: string, fromDir: string): string {
  if (isPathSpecifier(specifier)) return pathToFileURL(resolve(fromDir, specifier)).href;
  for (const base of [join(fromDir, 'package.json'), import.meta.url]) {
    try {
      return pathToFileURL(createRequire(base).resolve(specifier)).href;
    } catch {
      // Try the next place; the host's own dependencies come last.
    }
  }
  throw new MultiTenantError(
    'CONFIG_INVALID',
    `adapter.module: cannot find the package "${specifier}" from ${fromDir}; install it there.`,
    {
      details: { key: 'adapter.module' },
    },
  );
}

/**
 * Imports the adapter module configuration names (`{ "adapter": { "module": "…" } }`) and returns its
 * default export, which must be an {@link AdapterFactory}. A missing module or a wrong export is
 * `CONFIG_INVALID` naming the module.
 */
export async function loadAdapterModule(specifier: string, fromDir: string): Promise<AdapterFactory> {
  const url = resolveSpecifier(specifier, fromDir);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new MultiTenantError('CONFIG_INVALID', `adapter.module: cannot load "${specifier}": ${(error as Error).message}`, {
      cause: error,
      details: { key: 'adapter.module' },
    });
  }
  if (!isAdapterFactory(loaded.default))
    throw new MultiTenantError(
      'CONFIG_INVALID',
      `adapter.module: "${specifier}" must export an adapter factory ({ name, open(options, context) }) as its default export.`,
      { details: { key: 'adapter.module' } },
    );
  return loaded.default;
}
