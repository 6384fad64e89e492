import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** Longest accepted tenant id (its directory name, at most twice as long, stays under 255 bytes). */
export const MAX_TENANT_ID_LENGTH = 100;

/**
 * The allowlist: ASCII letters, digits, `.`, `_` and `-`; starts with a letter or digit; does not end
 * with `.` (some filesystems drop a trailing dot). UUIDs, slugs and numeric ids all fit.
 */
const TENANT_ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$/;

/** Why `input` is not an acceptable tenant id, or `undefined` when it is. */
export function tenantIdProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'a tenant id must be a string';
  if (input.length === 0) return 'a tenant id must not be empty';
  if (input.length > MAX_TENANT_ID_LENGTH) return `a tenant id is at most ${MAX_TENANT_ID_LENGTH} characters`;
  if (!TENANT_ID_PATTERN.test(input)) {
    return 'a tenant id may contain only letters, digits, ".", "_" and "-", must start with a letter or digit and must not end with "."';
  }
  return undefined;
}

/** Whether `input` is an acceptable tenant id. Never rewrites: an id either fits or is rejected. */
export function isValidTenantId(input: unknown): input is string {
  return tenantIdProblem(input) === undefined;
}

/** Returns `input` if it is an acceptable tenant id, else throws `TENANT_ID_INVALID` (never rewrites). */
export function assertTenantId(input: unknown): string {
  const problem = tenantIdProblem(input);
  if (problem !== undefined) {
    throw new MultiTenantError('TENANT_ID_INVALID', `Invalid tenant id: ${problem}.`, {
      details: { reason: problem },
    });
  }
  return input as string;
}

/**
 * Maps a tenant id to a directory name, injectively and safely on case-insensitive or
 * Unicode-normalising filesystems: the result uses only lowercase ASCII, digits, `.`, `-` and `_`.
 * `_` becomes `__` and an uppercase letter `X` becomes `_x`, so `Alice`, `alice` and `_alice`-like
 * ids can never share a directory. Throws `TENANT_ID_INVALID` for ids outside the allowlist.
 */
export function tenantDirName(tenantId: string): string {
  assertTenantId(tenantId);
  let out = '';
  for (const char of tenantId) {
    if (char === '_') out += '__';
    else if (char >= 'A' && char <= 'Z') out += `_${char.toLowerCase()}`;
    else out += char;
  }
  return out;
}

/** Inverts {@link tenantDirName}; returns `undefined` for names it could not have produced. */
export function tenantIdFromDirName(dirName: string): string | undefined {
  let out = '';
  for (let i = 0; i < dirName.length; i++) {
    const char = dirName[i]!;
    if (char !== '_') {
      if (char >= 'A' && char <= 'Z') return undefined;
      out += char;
      continue;
    }
    const next = dirName[++i];
    if (next === '_') out += '_';
    else if (next !== undefined && next >= 'a' && next <= 'z') out += next.toUpperCase();
    else return undefined;
  }
  return isValidTenantId(out) && tenantDirName(out) === dirName ? out : undefined;
}
