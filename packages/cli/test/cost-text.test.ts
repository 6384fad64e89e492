import { describe, expect, test } from 'vitest';
import { bytesText, costText } from '../src/output/cost-text.js';

describe("a cell's costs as operators read them", () => {
  test('MiB below a GiB, GiB with two decimals above', () => {
    expect(bytesText(792 * 2 ** 20)).toBe('792 MiB');
    expect(bytesText(1.5 * 1024 ** 3)).toBe('1.50 GiB');
    expect(bytesText(0)).toBe('0 MiB');
  });

  test('memory, CPU seconds and disk in one line', () => {
    expect(costText({ rssBytes: 700 * 2 ** 20, cpuSeconds: 23.456, diskBytes: 65 * 2 ** 20 })).toBe(
      'memory 700 MiB, CPU 23.5 s, disk 65 MiB',
    );
  });

  test('with the part of the memory that is its own, when measured', () => {
    expect(costText({ rssBytes: 535 * 2 ** 20, anonBytes: 466 * 2 ** 20, cpuSeconds: 1, diskBytes: 2 ** 20 })).toBe(
      'memory 535 MiB (466 MiB its own), CPU 1.0 s, disk 1 MiB',
    );
  });
});
