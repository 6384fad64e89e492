import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../helpers/atomic-write.js';

/** The text of a small state file, or `undefined` when it does not exist. Other read errors are thrown. */
export async function readStateFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Replaces a small state file atomically and durably (mode 0600), creating its directory (0700) when
 * missing. A crash leaves the old file or the new one, never a mix.
 */
export async function writeStateFile(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, data);
}
