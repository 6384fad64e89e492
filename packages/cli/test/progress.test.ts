import { describe, expect, test } from 'vitest';
import { createProgress } from '../src/output/progress.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 40, write: (chunk: string) => chunks.push(chunk) } as unknown as NodeJS.WriteStream };
}

describe('the progress line', () => {
  test('draws on a terminal and clears itself when done', () => {
    const out = stream(true);
    const err = stream(true);
    const progress = createProgress({ json: false, stdout: out.stream, stderr: err.stream });
    expect(progress.enabled).toBe(true);
    progress.update('migrating 1/1000 user-0001 and a very long tenant name that does not fit');
    progress.done();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matches ANSI escape sequences (ESC [2K clears the line).
    expect(err.chunks[0]).toMatch(/^\r\x1b\[2Kmigrating 1\/1000/);
    expect(err.chunks[0]!.length).toBeLessThanOrEqual(4 + 40);
    expect(err.chunks.at(-1)).toBe('\r\x1b[2K');
    expect(out.chunks).toEqual([]);
  });

  test('stays off when stdout is not a terminal, or with --json', () => {
    for (const [json, tty] of [
      [false, false],
      [true, true],
    ] as const) {
      const err = stream(true);
      const progress = createProgress({ json, stdout: stream(tty).stream, stderr: err.stream });
      progress.spin('syncing');
      progress.update('x');
      progress.done();
      expect(progress.enabled).toBe(false);
      expect(err.chunks).toEqual([]);
    }
  });
});
