import { isDeepStrictEqual } from 'node:util';
import { MultiTenantError, type JsonValue } from '@openclaw-mt/core';
import { Json5Error, parseJson5 } from '../config/json5.js';

/** OpenClaw's config write methods, whose `raw` payload the front door reads before forwarding. */
export const CONFIG_WRITE_METHODS: ReadonlySet<string> = new Set(['config.patch', 'config.set', 'config.apply']);

type JsonObject = { [key: string]: JsonValue };

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(method: string, message: string, details: Record<string, unknown>): never {
  throw new MultiTenantError('BAD_REQUEST', `${method}: ${message}`, { details: { reason: 'config-locked', ...details } });
}

/** A path segment that matches every key of an object and every element of an array. */
const ANY = '*';

/** What OpenClaw's `config.get` shows for a secret; on a write OpenClaw puts the stored value back in its place. */
export const REDACTED_SENTINEL = '__OPENCLAW_REDACTED__';

/**
 * Whether a merge patch changes anything at `path` (setting, replacing or deleting it or a parent).
 * A `*` segment matches every key of an object (and every element of an array, which a merge patch
 * replaces whole: an element touches the path when it carries the rest of it).
 */
function patchTouches(patch: JsonValue, path: readonly string[]): boolean {
  const [key, ...rest] = path;
  if (key === undefined) return true;
  if (key === ANY && Array.isArray(patch)) return patch.some((item) => isObject(item) && patchTouches(item, rest));
  if (!isObject(patch)) return false;
  const children = key === ANY ? Object.values(patch) : Object.hasOwn(patch, key) ? [patch[key]!] : [];
  // Anything but an object below here replaces (or deletes) the whole subtree, locked part included.
  return children.some((child) => (isObject(child) || (Array.isArray(child) && rest[0] === ANY) ? patchTouches(child, rest) : true));
}

/** A place in a full config matching a locked path: the value there, or the non-object that stands in for its parent. */
interface Match {
  at: string;
  value: JsonValue;
}

/** Every place in a full config a locked path (with `*` segments) reaches. */
function matchesOf(config: JsonValue, path: readonly string[], prefix = ''): Match[] {
  const [key, ...rest] = path;
  if (key === undefined) return [{ at: prefix, value: config }];
  const join = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
  if (key === ANY && Array.isArray(config)) return config.flatMap((item, index) => matchesOf(item, rest, join(String(index))));
  if (!isObject(config)) return [{ at: prefix, value: config }];
  if (key === ANY) return Object.entries(config).flatMap(([name, child]) => matchesOf(child, rest, join(name)));
  return Object.hasOwn(config, key) ? matchesOf(config[key]!, rest, join(key)) : [];
}

/** Equal, where a redacted secret in `written` stands for whatever `stored` holds there. */
function sameExceptRedacted(written: JsonValue, stored: JsonValue): boolean {
  if (written === REDACTED_SENTINEL) return stored !== null && typeof stored !== 'object';
  if (Array.isArray(written))
    return (
      Array.isArray(stored) && written.length === stored.length && written.every((item, index) => sameExceptRedacted(item, stored[index]!))
    );
  if (isObject(written)) {
    if (!isObject(stored)) return false;
    const keys = Object.keys(written);
    return (
      keys.length === Object.keys(stored).length &&
      keys.every((key) => Object.hasOwn(stored, key) && sameExceptRedacted(written[key]!, stored[key]!))
    );
  }
  return isDeepStrictEqual(written, stored);
}

function findKey(value: JsonValue, key: string): boolean {
  if (Array.isArray(value)) return value.some((item) => findKey(item, key));
  if (!isObject(value)) return false;
  return Object.entries(value).some(([name, item]) => name === key || findKey(item, key));
}

/**
 * Refuses (`BAD_REQUEST`, `details.reason: "config-locked"`) a config write that would change a key
 * the operator owns. Locked paths are dot-separated; a `*` segment stands for any key or array
 * element (`models.providers.*.baseUrl`). `config.patch` may not touch a locked path at all (nor list
 * it in `replacePaths`); `config.set` / `config.apply` replace the whole file, so a locked path may
 * be repeated unchanged (a secret may come back as OpenClaw's redaction marker) and a single locked
 * key may be left out (the runtime puts it back), never altered; paths with `*` may not be left out. `$include` is refused anywhere: an include could
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
    throw new MultiTenantError('BAD_REQUEST', `${method}: the config payload could not be checked${where}.`, {
      details: { reason: 'config-unreadable' },
    });
  }
  if (findKey(config, '$include')) refuse(method, '"$include" is not allowed in config writes through this gateway.', { path: '$include' });
  for (const locked of lockedPaths) {
    const path = locked.split('.');
    if (method === 'config.patch') {
      if (patchTouches(config, path)) refuse(method, `"${locked}" is managed by the operator and cannot be changed.`, { path: locked });
      continue;
    }
    const stored = new Map(matchesOf(enforced, path).map((match) => [match.at, match.value]));
    for (const found of matchesOf(config, path)) {
      const expected = stored.get(found.at);
      if (expected === undefined || !sameExceptRedacted(found.value, expected)) {
        refuse(method, `"${locked}" is managed by the operator and cannot be changed.`, { path: locked, at: found.at });
      }
    }
    // A single locked key left out is put back by the runtime; one of many (`*`) is part of an entry
    // (a provider) that must stay whole, so leaving it out is refused.
    if (path.includes(ANY)) {
      const written = new Set(matchesOf(config, path).map((match) => match.at));
      for (const at of stored.keys())
        if (!written.has(at)) refuse(method, `"${locked}" is managed by the operator and cannot be removed.`, { path: locked, at });
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
        const overlaps = segments
          .slice(0, shared)
          .every((segment, index) => segment === path[index] || segment === ANY || path[index] === ANY);
        if (overlaps) refuse(method, `replacePaths may not name "${entry}": "${locked}" is managed by the operator.`, { path: locked });
      }
    }
  }
}
