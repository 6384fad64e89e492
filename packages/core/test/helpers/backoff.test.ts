import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type BackoffJitter, createBackoff } from '@openclaw-mt/core/helpers';
import { rejectsWithCode } from '@openclaw-mt/core/testing';

const jitters: BackoffJitter[] = ['full', 'equal', 'none'];

describe('createBackoff', () => {
  test('every delay lies within its jitter band under min(maxMs, initialMs·factor^(n-1)), and the ceiling never shrinks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.constantFrom(2, 3, 4),
        fc.constantFrom(...jitters),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (initialMs, maxMs, minMs, factor, jitter, draws) => {
          let i = 0;
          const delay = createBackoff({ initialMs, maxMs, minMs, factor, jitter }, () => draws[i++ % draws.length]!);
          const floor = Math.min(minMs, maxMs);
          for (let attempt = 1; attempt <= draws.length; attempt++) {
            const ceiling = Math.max(floor, Math.min(maxMs, initialMs * factor ** (attempt - 1)));
            const bottom = jitter === 'none' ? ceiling : jitter === 'equal' ? Math.max(floor, ceiling / 2) : floor;
            const value = delay(attempt);
            expect(Number.isInteger(value)).toBe(true);
            expect(value).toBeGreaterThanOrEqual(Math.floor(bottom));
            expect(value).toBeLessThanOrEqual(Math.round(ceiling));
          }
          const top = createBackoff({ initialMs, maxMs, minMs, factor, jitter }, () => 1);
          for (let attempt = 1; attempt < 60; attempt++) expect(top(attempt + 1)).toBeGreaterThanOrEqual(top(attempt));
        },
      ),
    );
  });

  test('full jitter spreads delays across the whole band; none is the ceiling itself', () => {
    const low = createBackoff({ initialMs: 1_000, maxMs: 60_000, minMs: 100 }, () => 0);
    const high = createBackoff({ initialMs: 1_000, maxMs: 60_000, minMs: 100 }, () => 1);
    expect([low(1), high(1), low(4), high(4), high(30)]).toEqual([100, 1_000, 100, 8_000, 60_000]);
    const fixed = createBackoff({ initialMs: 250, maxMs: 30_000, minMs: 0, jitter: 'none' }, () => 0.5);
    expect([1, 2, 3, 8].map(fixed)).toEqual([250, 500, 1_000, 30_000]);
  });

  test('bad bounds are refused with CONFIG_INVALID', async () => {
    for (const options of [
      { initialMs: 0 },
      { maxMs: -1 },
      { minMs: Number.NaN },
      { factor: 0.5 },
      { initialMs: Number.POSITIVE_INFINITY },
    ]) {
      await rejectsWithCode(async () => createBackoff(options), 'CONFIG_INVALID');
    }
  });
});
