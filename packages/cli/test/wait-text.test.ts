import { describe, expect, it } from 'vitest';
import { waitText } from '../src/output/wait-text.js';

describe('a wait as a person reads it, rounded up to the second', () => {
  it.each([
    [1, '1 s'],
    [45_000, '45 s'],
    [59_001, '1 min'],
    [299_000, '4 min 59 s'],
    [299_001, '5 min'],
    [300_000, '5 min'],
    [3_600_000, '1 h'],
    [3_660_000, '1 h 1 min'],
    [7_199_000, '2 h'],
  ])('%i ms → %s', (ms, text) => {
    expect(waitText(ms)).toBe(text);
  });
});
