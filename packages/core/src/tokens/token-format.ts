import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { decodeBase62, encodeBase62, randomBase62 } from './base62.js';
import { crc32Ascii } from './crc32.js';

/** Every gateway token starts with this prefix, so secret scanners and log redaction can spot it. */
export const TOKEN_PREFIX = 'gt_';

/** Random characters in a newly created token (~190 bits of entropy). */
export const TOKEN_ENTROPY_CHARS = 32;
/** The fewest random characters a token may carry and still parse. */
export const MIN_TOKEN_ENTROPY_CHARS = 30;
/** Base62 characters of the CRC32 checksum at the end of a token. */
export const TOKEN_CHECKSUM_CHARS = 6;
/** Upper bound on a token's length, so hostile input is rejected before any work. */
export const MAX_TOKEN_LENGTH = 256;

/** A token that passed format and checksum checks. */
export interface ParsedToken {
  /** The whole token, unchanged. */
  readonly token: string;
  /** The random part, between the prefix and the checksum. */
  readonly entropy: string;
  /** The 6-character checksum. */
  readonly checksum: string;
}

const BODY_PATTERN = /^gt_[0-9A-Za-z]+$/;

function checksumOf(entropy: string): string {
  return encodeBase62(crc32Ascii(entropy), TOKEN_CHECKSUM_CHARS);
}

/** Creates a new gateway token: `gt_` + 32 CSPRNG base62 characters + a 6-character CRC32 checksum. */
export function createToken(): string {
  const entropy = randomBase62(TOKEN_ENTROPY_CHARS);
  return TOKEN_PREFIX + entropy + checksumOf(entropy);
}

/**
 * Checks a token's prefix, charset, length bounds and checksum without any lookup.
 * Returns the reason it is malformed, or `undefined` when it is well formed.
 */
export function tokenFormatProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'a token must be a string';
  if (!input.startsWith(TOKEN_PREFIX)) return `a token must start with "${TOKEN_PREFIX}"`;
  const length = input.length;
  if (length > MAX_TOKEN_LENGTH) return `a token is at most ${MAX_TOKEN_LENGTH} characters`;
  if (length < TOKEN_PREFIX.length + MIN_TOKEN_ENTROPY_CHARS + TOKEN_CHECKSUM_CHARS) return 'the token is too short';
  if (!BODY_PATTERN.test(input)) return 'a token may only contain letters and digits after its prefix';
  // Compare numerically: this runs on every authentication, so no strings are built.
  const split = length - TOKEN_CHECKSUM_CHARS;
  if (crc32Ascii(input, TOKEN_PREFIX.length, split) !== decodeBase62(input, split, length)) return 'the token checksum does not match';
  return undefined;
}

/** Whether `input` is a well-formed token (prefix, charset, length, checksum). */
export function isWellFormedToken(input: unknown): input is string {
  return tokenFormatProblem(input) === undefined;
}

/**
 * Parses a token, throwing `TOKEN_MALFORMED` when the prefix, charset, length or checksum is wrong.
 * The error never echoes the input.
 */
export function parseToken(input: unknown): ParsedToken {
  const problem = tokenFormatProblem(input);
  if (problem !== undefined) {
    throw new MultiTenantError('TOKEN_MALFORMED', `Malformed gateway token: ${problem}.`);
  }
  const token = input as string;
  const split = token.length - TOKEN_CHECKSUM_CHARS;
  return { token, entropy: token.slice(TOKEN_PREFIX.length, split), checksum: token.slice(split) };
}
