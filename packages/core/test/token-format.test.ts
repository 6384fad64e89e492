import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  createToken,
  isWellFormedToken,
  parseToken,
  TOKEN_CHECKSUM_CHARS,
  TOKEN_PREFIX,
  tokenFormatProblem,
} from '@openclaw-mt/core/tokens';
import { MultiTenantError } from '@openclaw-mt/core';

const BASE62 = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'];

/** The documented scheme, written out independently: base62 CRC32 of the entropy, 6 characters. */
function withChecksum(entropy: string): string {
  let value = crc32(entropy);
  let checksum = '';
  do {
    checksum = BASE62[value % 62] + checksum;
    value = Math.floor(value / 62);
  } while (value > 0);
  return TOKEN_PREFIX + entropy + checksum.padStart(6, '0');
}

describe('token format', () => {
  test('a created token has the documented shape', () => {
    const token = createToken();
    expect(token).toMatch(/^gt_[0-9A-Za-z]{38}$/);
    expect(isWellFormedToken(token)).toBe(true);
  });

  test('created tokens round-trip through parse and never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const token = createToken();
      const parsed = parseToken(token);
      expect(parsed.token).toBe(token);
      expect(TOKEN_PREFIX + parsed.entropy + parsed.checksum).toBe(token);
      expect(parsed.checksum).toHaveLength(TOKEN_CHECKSUM_CHARS);
      seen.add(token);
    }
    expect(seen.size).toBe(2_000);
  });

  test('every single-character change of a valid token is caught by the checksum or charset', () => {
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...BASE62, '-', '_', '=', ' ', 'é'), (position, replacement) => {
        const token = createToken();
        const index = TOKEN_PREFIX.length + (position % (token.length - TOKEN_PREFIX.length));
        fc.pre(token[index] !== replacement);
        const mutated = token.slice(0, index) + replacement + token.slice(index + 1);
        expect(isWellFormedToken(mutated)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  test('parse goes by prefix, charset and checksum, not exact length', () => {
    expect(tokenFormatProblem(createToken())).toBeUndefined();
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-Za-z]{30,120}$/), (entropy) => {
        expect(parseToken(withChecksum(entropy)).entropy).toBe(entropy);
      }),
    );
    expect(tokenFormatProblem(withChecksum('a'.repeat(29)))).toMatch(/too short/);
    expect(tokenFormatProblem(`${TOKEN_PREFIX}${'a'.repeat(40)}`)).toMatch(/checksum/);
  });

  test('arbitrary strings are rejected with TOKEN_MALFORMED and the error never echoes them', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.stringMatching(/^gt_[0-9A-Za-z]{20,60}$/)), (input) => {
        const wellFormed: boolean = isWellFormedToken(input);
        fc.pre(!wellFormed);
        let caught: unknown;
        try {
          parseToken(input);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(MultiTenantError);
        expect((caught as MultiTenantError).code).toBe('TOKEN_MALFORMED');
        if (input.length > 6) expect((caught as MultiTenantError).message).not.toContain(input);
      }),
      { numRuns: 3_000 },
    );
  });

  test('non-strings, missing prefixes and oversized input are malformed', () => {
    for (const input of [
      undefined,
      null,
      42,
      {},
      [],
      '',
      'gt_',
      `GT_${createToken().slice(3)}`,
      createToken().slice(1),
      `gt_${'A'.repeat(300)}`,
    ]) {
      expect(isWellFormedToken(input)).toBe(false);
    }
  });
});
