import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTokenIdPrefix, pickByPrefix, shownTokenId } from '@openclaw-mt/core/tokens';

const hash = fc.stringMatching(/^[0-9a-f]{64}$/);

describe('token id prefixes', () => {
  it('a shown id and every prefix of 4+ digits parse back to a prefix of the hash', () => {
    fc.assert(
      fc.property(hash, fc.integer({ min: 4, max: 63 }), (tokenHash, digits) => {
        expect(tokenHash.startsWith(parseTokenIdPrefix(shownTokenId(tokenHash))!)).toBe(true);
        expect(parseTokenIdPrefix(tokenHash.slice(0, digits).toUpperCase())).toBe(tokenHash.slice(0, digits));
      }),
    );
  });

  it('rejects anything that is not 4 to 63 hex digits', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseTokenIdPrefix(text);
        if (parsed !== undefined) expect(parsed).toMatch(/^[0-9a-f]{4,63}$/);
      }),
    );
    for (const bad of ['', 'abc', 'xyz1', 'a'.repeat(64), '12 34']) expect(parseTokenIdPrefix(bad)).toBeUndefined();
  });

  it('picks the one match, else NOT_FOUND or BAD_REQUEST naming every match', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(hash, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.integer({ min: 4, max: 8 }),
        (hashes, index, digits) => {
          const prefix = hashes[index % hashes.length]!.slice(0, digits);
          const matches = hashes.filter((h) => h.startsWith(prefix));
          if (matches.length === 1) {
            expect(pickByPrefix(hashes, prefix)).toBe(matches[0]);
            return;
          }
          let error: { code?: string; details?: { matches?: string[] } } = {};
          try {
            pickByPrefix(hashes, prefix);
          } catch (caught) {
            error = caught as typeof error;
          }
          expect(error.code).toBe('BAD_REQUEST');
          expect(error.details!.matches).toHaveLength(matches.length);
        },
      ),
    );
    expect(() => pickByPrefix(['a'.repeat(64)], 'bbbb')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
