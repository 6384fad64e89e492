import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { MAX_TOKEN_LENGTH, TOKEN_PREFIX, tokenFormatProblem } from './token-format.js';

/**
 * Token formats a gateway accepts:
 * - `gt`: openclaw-mt's own `gt_` + base62 + CRC32 checksum; malformed ones are refused before any lookup;
 * - `gw`: the original fork's Cloud Backend tokens, `gw_` + url-safe base64 (`secrets.token_urlsafe`). They
 *   carry no checksum, so only their shape is checked here and the backend decides the rest.
 */
export type TokenFormatName = 'gt' | 'gw';

/** Every known format, in the order they are tried. */
export const TOKEN_FORMAT_NAMES: readonly TokenFormatName[] = ['gt', 'gw'];

/** Prefix of the original fork's tokens. */
export const GW_TOKEN_PREFIX = 'gw_';

/** What a gateway accepts when nothing is configured. */
export const DEFAULT_TOKEN_FORMATS: readonly TokenFormatName[] = ['gt'];

// `secrets.token_urlsafe(32)` gives 43 characters; fewer than 16 cannot carry enough entropy to be a credential.
const GW_BODY = /^gw_[A-Za-z0-9_-]{16,}$/;

function gwProblem(input: string): string | undefined {
  if (input.length > MAX_TOKEN_LENGTH) return `a token is at most ${MAX_TOKEN_LENGTH} characters`;
  if (!GW_BODY.test(input)) return `a ${GW_TOKEN_PREFIX} token is at least 16 letters, digits, "-" or "_" after its prefix`;
  return undefined;
}

/** The format a token claims by its prefix, if it is a known one. */
export function tokenFormatOf(input: unknown): TokenFormatName | undefined {
  if (typeof input !== 'string') return undefined;
  if (input.startsWith(TOKEN_PREFIX)) return 'gt';
  if (input.startsWith(GW_TOKEN_PREFIX)) return 'gw';
  return undefined;
}

/**
 * The format rule of a gateway: why `input` is not an acceptable token, or `undefined` when it is.
 * Only `gt_` tokens get the checksum gate; a format that is not enabled is refused by its prefix.
 */
export type TokenFormatPolicy = (input: unknown) => string | undefined;

/** Checks a list of format names; throws `CONFIG_INVALID` for an empty list or an unknown name. */
export function assertTokenFormats(formats: readonly unknown[]): readonly TokenFormatName[] {
  if (!Array.isArray(formats) || formats.length === 0) {
    throw new MultiTenantError('CONFIG_INVALID', 'tokenFormats: expected a non-empty list of "gt" and/or "gw".');
  }
  for (const format of formats) {
    if (!TOKEN_FORMAT_NAMES.includes(format as TokenFormatName)) {
      throw new MultiTenantError('CONFIG_INVALID', `tokenFormats: unknown format ${JSON.stringify(format)}; expected "gt" or "gw".`);
    }
  }
  return [...new Set(formats as TokenFormatName[])];
}

/** Builds the format rule for the enabled formats (default: `gt` only). */
export function createTokenFormatPolicy(formats: readonly TokenFormatName[] = DEFAULT_TOKEN_FORMATS): TokenFormatPolicy {
  const enabled = assertTokenFormats(formats);
  const gt = enabled.includes('gt');
  const gw = enabled.includes('gw');
  // The common case stays exactly the checksum check, with no extra work per authentication.
  if (gt && !gw) return tokenFormatProblem;
  const expected = enabled.map((name) => `"${name}_"`).join(' or ');
  return (input) => {
    if (typeof input !== 'string') return 'a token must be a string';
    const format = tokenFormatOf(input);
    if (format === 'gt' && gt) return tokenFormatProblem(input);
    if (format === 'gw' && gw) return gwProblem(input);
    return `a token must start with ${expected}`;
  };
}
