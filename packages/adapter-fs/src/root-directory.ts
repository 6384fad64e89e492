import { chmodSync, lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';
import { DIRECTORY_MODE } from './permissions.js';
import { errnoCode } from './storage-error.js';

function invalid(option: string, problem: string, cause?: unknown): MultiTenantError {
  return new MultiTenantError('CONFIG_INVALID', `${option}: ${problem}`, {
    details: { key: option },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Checks (and creates, 0700, when missing) a store's root directory, synchronously at store creation,
 * and returns its realpath, which the store caches (a realpath costs ~13 µs). Refuses with
 * `CONFIG_INVALID` a root that is a symlink, not a directory, or writable by group or others: anyone
 * who can write there could plant links or swap a tenant's files.
 */
export function prepareRootDirectory(path: unknown, option: string): string {
  if (typeof path !== 'string' || path.trim() === '' || path.includes('\0')) throw invalid(option, 'expected a directory path.');
  const absolute = resolve(path);
  try {
    const first = mkdirSync(absolute, { recursive: true, mode: DIRECTORY_MODE });
    // mkdir's mode is filtered by the umask: set 0700 exactly on every directory we just made.
    if (first !== undefined) {
      for (let dir = absolute; ; dir = dirname(dir)) {
        chmodSync(dir, DIRECTORY_MODE);
        if (dir === first || dir === dirname(dir)) break;
      }
    }
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST')
      throw invalid(option, `cannot create the directory ${absolute} (${errnoCode(error) ?? 'error'}).`, error);
  }
  let stats: Stats;
  try {
    stats = lstatSync(absolute);
  } catch (error) {
    throw invalid(option, `cannot read the directory ${absolute} (${errnoCode(error) ?? 'error'}).`, error);
  }
  if (stats.isSymbolicLink()) throw invalid(option, `${absolute} is a symbolic link; point the option at the real directory.`);
  if (!stats.isDirectory()) throw invalid(option, `${absolute} is not a directory.`);
  if ((stats.mode & 0o022) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
    throw invalid(option, `${absolute} is writable by group or others (mode ${mode}); run chmod 700 on it.`);
  }
  return realpathSync(absolute);
}
