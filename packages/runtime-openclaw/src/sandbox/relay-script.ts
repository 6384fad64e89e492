import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

/**
 * The relay script shipped with this package (`sandbox/cell-relay.mjs`), found by walking up from
 * this module to the package root: the same from the built bundle and from the sources.
 */
export function relayScriptPath(): string {
  if (found !== undefined) return found;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
    if (name !== '@openclaw-mt/runtime-openclaw') continue;
    found = join(dir, 'sandbox', 'cell-relay.mjs');
    return found;
  }
  throw new Error('The cell relay script of @openclaw-mt/runtime-openclaw is missing from its package.');
}
