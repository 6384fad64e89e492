import { isDeepStrictEqual } from 'node:util';
import { MultiTenantError, type JsonValue } from '@openclaw-mt/core';
import { Json5Error, parseJson5 } from './json5.js';

/** OpenClaw's config write methods, whose `raw` payload the front door reads before forwarding. */
export const CONFIG_WRITE_METHODS: ReadonlySet<string> = new Set(['config.patch', 'config.set', 'config.apply']);

type JsonObject = { [key: string]: JsonValue };

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(method: string, message: string, details: Record<string, unknown>): never {
  throw new MultiTenantError('BAD_REQUEST', `${method}: ${message}`, { details: { reason: 'config-locked', ...details } });
}

/** Whether a merge patch changes anything at `path` (setting, replacing or deleting it or a parent). */
function patchTouches(patch: JsonValue, path: readonly string[]): boolean {
  let node: JsonValue = patch;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key]!;
    // Anything but an object here replaces (or deletes) the whole subtree, locked part included.
    if (!isObject(node)) return true;
  }
  return true;
}

/** The value at `path` of a full config: absent, or present with a value (a non-object parent counts as present). */
function valueAt(config: JsonValue, path: readonly string[]): { present: false } | { present: true; value: JsonValue } {
  let node: JsonValue = config;
  for (const key of path) {
    if (!isObject(node)) return { present: true, value: node };
    if (!Object.hasOwn(node, key)) return { present: false };
    node = node[key]!;
  }
  return { present: true, value: node };
}

function findKey(value: JsonValue, key: string): boolean {
  if (Array.isArray(value)) return value.some((item) => findKey(item, key));
  if (!isObject(value)) return false;
  return Object.entries(value).some(([name, item]) => name === key || findKey(item, key));
}

/**
 * Refuses (`BAD_REQUEST`, `details.reason: "config-locked"`) a config write that would change a key
 * the operator owns. `config.patch` may not touch a locked path at all (nor list it in `replacePaths`);
 * `config.set` / `config.apply` replace the whole file, so a locked path may be left out (the runtime
 * puts it back) or repeated unchanged, never altered. `$include` is refused anywhere: an include could
 * bring locked keys, or another file's content, in unseen. A payload that cannot be read is refused too.
 *
 * @param enforced the values the runtime writes for the locked paths (`{ gateway: { mode: "local" }, … }`).
 */
export function checkConfigWrite(method: string, params: unknown, lockedPaths: readonly string[], enforced: JsonValue): void {
  if (!CONFIG_WRITE_METHODS.has(method)) return;
  const raw = (params as { raw?: unknown } | undefined)?.raw;
  // No text to read means OpenClaw's own schema refuses the call; nothing can be written.
  if (typeof raw !== 'string') return;
  let config: JsonValue;
  try {
    config = parseJson5(raw);
  } catch (error) {
    const where = error instanceof Json5Error ? ` (${error.message})` : '';
    throw new MultiTenantError('BAD_REQUEST', `${method}: the config payload could not be checked${where}.`, { details: { reason: 'config-unreadable' } });
  }
  if (findKey(config, '$include')) refuse(method, '"$include" is not allowed in config writes through this gateway.', { path: '$include' });
  for (const locked of lockedPaths) {
    const path = locked.split('.');
    if (method === 'config.patch') {
      if (patchTouches(config, path)) refuse(method, `"${locked}" is managed by the operator and cannot be changed.`, { path: locked });
      continue;
    }
    const found = valueAt(config, path);
    if (found.present) {
      const expected = valueAt(enforced, path);
      if (!expected.present || !isDeepStrictEqual(found.value, expected.value)) {
        refuse(method, `"${locked}" is managed by the operator and cannot be changed.`, { path: locked });
      }
    }
  }
  const replacePaths = (params as { replacePaths?: unknown }).replacePaths;
  if (method === 'config.patch' && Array.isArray(replacePaths)) {
    for (const entry of replacePaths) {
      if (typeof entry !== 'string') continue;
      const segments = entry.replace(/\[[^\]]*\]/g, '').split('.');
      for (const locked of lockedPaths) {
        const path = locked.split('.');
        const shared = Math.min(segments.length, path.length);
        const overlaps = segments.slice(0, shared).every((segment, index) => segment === path[index] || segment === '*');
        if (overlaps) refuse(method, `replacePaths may not name "${entry}": "${locked}" is managed by the operator.`, { path: locked });
      }
    }
  }
}
