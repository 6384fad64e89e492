import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** How many hex digits of a token hash `tokens list` shows; a shown id is this prefix plus "…". */
export const SHOWN_HASH_DIGITS = 16;
/** The shortest prefix accepted, like git's abbreviated ids. */
export const MIN_PREFIX_DIGITS = 4;

/** The id `tokens list` shows for a token hash. */
export const shownTokenId = (tokenHash: string): string => `${tokenHash.slice(0, SHOWN_HASH_DIGITS)}…`;

/**
 * The hash prefix a user typed, as copied from a listing ("…" or "..." at the end allowed, any case),
 * or `undefined` when the text is not a hash prefix (it may still be a token or a whole hash).
 */
export function parseTokenIdPrefix(text: string): string | undefined {
  const bare = text.replace(/(…|\.\.\.)$/, '').toLowerCase();
  return new RegExp(`^[0-9a-f]{${MIN_PREFIX_DIGITS},63}$`).test(bare) ? bare : undefined;
}

/**
 * The one hash among `hashes` that starts with `prefix`. None is `NOT_FOUND`; several is `BAD_REQUEST`
 * listing the shown ids of the matches, so the user can type a longer prefix.
 */
export function pickByPrefix(hashes: readonly string[], prefix: string): string {
  const matches = [...new Set(hashes.filter((hash) => hash.startsWith(prefix)))].sort();
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new MultiTenantError('NOT_FOUND', `No token id starts with ${prefix}.`);
  // The shown id where it tells the matches apart, else the whole hash.
  const shown = matches.map((hash) =>
    matches.filter((other) => other.startsWith(hash.slice(0, SHOWN_HASH_DIGITS))).length === 1 ? shownTokenId(hash) : hash,
  );
  throw new MultiTenantError('BAD_REQUEST', `The token id ${prefix} is ambiguous; it matches ${shown.join(', ')}. Give more digits.`, {
    details: { prefix, matches: shown },
  });
}
