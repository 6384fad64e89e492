import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { RequestRate } from '../src/limits/request-rate.js';

describe('RequestRate', () => {
  test('the wait it names is the real one: a request fits after it and not 2 ms before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 400 }),
        (perMinute, gaps) => {
          let now = 1_000_000;
          const rate = new RequestRate(() => now);
          for (const gap of gaps) {
            now += gap;
            const wait = rate.take('t', perMinute);
            if (wait === 0) continue;
            expect(wait).toBeGreaterThan(0);
            const at = now;
            if (wait > 2) {
              now = at + wait - 2;
              expect(rate.take('t', perMinute)).toBeGreaterThan(0);
            }
            now = at + wait;
            expect(rate.take('t', perMinute)).toBe(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('20 a minute: the 21st request waits for the window, not 3 s', () => {
    let now = 0;
    const rate = new RequestRate(() => now);
    for (let i = 0; i < 20; i++) expect(rate.take('t', 20)).toBe(0);
    const wait = rate.take('t', 20);
    // The whole minute's worth sits in the current window: it must age into the previous one first.
    expect(wait).toBeGreaterThan(60_000);
    now += wait;
    expect(rate.take('t', 20)).toBe(0);
  });

  test('a lowered limit names a wait that holds under the new limit', () => {
    let now = 0;
    const rate = new RequestRate(() => now);
    for (let i = 0; i < 100; i++) rate.take('t', 600);
    const wait = rate.take('t', 10);
    now += wait;
    expect(rate.take('t', 10)).toBe(0);
  });
});
