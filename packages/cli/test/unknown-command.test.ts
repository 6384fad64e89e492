import { describe, expect, it } from 'vitest';
import { nearest } from '../src/unknown-command/edit-distance.js';
import { run, tempDir } from './support/cli-process.js';

describe('a mistyped command', () => {
  it('gets a short "did you mean" with the nearest command, not the whole help; exit 1', async () => {
    const result = await run(['tokns'], { cwd: await tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Unknown command `tokns`. Did you mean `tokens`?\nRun `openclaw-mt --help` to see the commands.\n');
    expect(result.stdout).toBe('');
  });

  it('inside a group, the nearest subcommand of that group', async () => {
    const result = await run(['tokens', 'lst', 'alice'], { cwd: await tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Unknown command `tokens lst`. Did you mean `tokens list`?');
    expect(result.stderr).toContain('openclaw-mt tokens --help');
    expect(result.stdout).toBe('');
  });

  it('no suggestion when nothing is close', async () => {
    const result = await run(['xyzzy'], { cwd: await tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Unknown command `xyzzy`.\nRun `openclaw-mt --help` to see the commands.\n');
  });

  it('words after `--` are not taken for a command; a known command still runs', async () => {
    const result = await run(['--', 'tokns'], { cwd: await tempDir() });
    expect(result.stderr).not.toContain('Did you mean');
    const listed = await run(['tokens', 'list', 'nobody'], { cwd: await tempDir() });
    expect(listed.code).toBe(0);
  });
});

describe('nearest command name', () => {
  const names = ['serve', 'connect', 'tokens', 'users', 'config', 'stats', 'audit', 'doctor', 'migrate', 'backend', 'runtime'];
  it.each([
    ['tokns', 'tokens'],
    ['tokesn', 'tokens'],
    ['srve', 'serve'],
    ['conect', 'connect'],
    ['STATS', 'stats'],
    ['doctr', 'doctor'],
  ])('%s → %s', (typed, expected) => {
    expect(nearest(typed, names)).toBe(expected);
  });

  it.each(['xyzzy', 'tok', 'deploy', 'x'])('%s → nothing', (typed) => {
    expect(nearest(typed, names)).toBeUndefined();
  });
});
