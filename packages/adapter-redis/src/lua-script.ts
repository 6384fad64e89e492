import { createHash } from 'node:crypto';

/** A Lua script with its SHA-1, so it can run by `EVALSHA` and fall back to `EVAL` once per server. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** Declares a script. Scripts touch only keys passed in `KEYS` (or keys sharing their hash tag). */
export function defineLua(name: string, source: string): LuaScript {
  const text = source.trim();
  return Object.freeze({ name, source: text, sha: createHash('sha1').update(text).digest('hex') });
}
