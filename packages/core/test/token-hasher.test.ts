import { createHash, createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createToken, createTokenHasher } from '@openclaw-mt/core/tokens';
import { isTokenHash } from '@openclaw-mt/core/contracts';

describe('token hasher', () => {
  test('without a pepper: SHA-256 hex', () => {
    const token = createToken();
    const hasher = createTokenHasher();
    expect(hasher.peppered).toBe(false);
    expect(hasher.hash(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hasher.candidates(token)).toEqual([hasher.hash(token)]);
  });

  test('with peppers: HMAC-SHA256 under the first, candidates under all in order', () => {
    const token = createToken();
    const hasher = createTokenHasher({ peppers: ['current-pepper-0123456789', 'previous-pepper-0123456789'] });
    const expected = createHmac('sha256', 'current-pepper-0123456789').update(token).digest('hex');
    expect(hasher.hash(token)).toBe(expected);
    expect(hasher.candidates(token)).toEqual([expected, createHmac('sha256', 'previous-pepper-0123456789').update(token).digest('hex')]);
    expect(isTokenHash(expected)).toBe(true);
  });

  test('rejects empty peppers', () => {
    expect(() => createTokenHasher({ peppers: [''] })).toThrow(TypeError);
  });
});
