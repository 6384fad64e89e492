import { createHmac, hash } from 'node:crypto';

/** Turns tokens into the only form stores and caches ever hold: a hex digest. */
export interface TokenHasher {
  /** The digest under the current (first) pepper; use it to store new tokens and as the cache key. */
  hash(token: string): string;
  /**
   * Digests under every accepted pepper, current first, for lookups during pepper rotation.
   * Has one element when there is at most one pepper.
   */
  candidates(token: string): string[];
  /** Whether stored hashes are keyed (HMAC) rather than plain SHA-256. */
  readonly peppered: boolean;
}

/** Options for {@link createTokenHasher}. */
export interface TokenHasherOptions {
  /**
   * HMAC keys, current first. New tokens are hashed with the first; lookups also try the rest, so a
   * pepper can be rotated without invalidating issued tokens. Empty or omitted: plain SHA-256.
   */
  peppers?: readonly string[];
}

function hmacHex(pepper: string, token: string): string {
  return createHmac('sha256', pepper).update(token).digest('hex');
}

/** Creates a {@link TokenHasher}: HMAC-SHA256 with the configured peppers, or SHA-256 without one. */
export function createTokenHasher(options: TokenHasherOptions = {}): TokenHasher {
  const peppers = [...(options.peppers ?? [])];
  if (peppers.some((pepper) => typeof pepper !== 'string' || pepper.length === 0)) {
    throw new TypeError('Every pepper must be a non-empty string.');
  }
  if (peppers.length === 0) {
    const sha = (token: string) => hash('sha256', token, 'hex');
    return { peppered: false, hash: sha, candidates: (token) => [sha(token)] };
  }
  const current = peppers[0]!;
  return {
    peppered: true,
    hash: (token) => hmacHex(current, token),
    candidates: (token) => peppers.map((pepper) => hmacHex(pepper, token)),
  };
}

/** Whether `value` looks like a stored token hash (64 lowercase hex characters). */
export function isTokenHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
