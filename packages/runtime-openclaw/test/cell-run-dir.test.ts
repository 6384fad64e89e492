import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunDir } from '../src/sandbox/cell-run-dir.js';

// The directory joining a sandboxed cell to the host: what the tenant's user may enter and read there does not
// depend on the umask the host runs under.

describe('a cell run directory', () => {
  let base: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'ocmt-run-dir-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('has exactly its modes under a strict umask: the tenant enters cell/ and reads its passwd', async () => {
    const dir = join(base, 'strict');
    // As root: an account of its own (nobody's ids stand in for a tenant's); else the run directory is this user's.
    const user = process.getuid?.() === 0 ? { name: 'ocmt-test', uid: 65534, gid: 65534 } : undefined;
    const previous = process.umask(0o077);
    try {
      await writeRunDir(dir, user);
    } finally {
      process.umask(previous);
    }
    const modeOf = async (path: string) => (await lstat(join(dir, path))).mode & 0o777;
    expect(await modeOf('.')).toBe(0o711);
    expect(await modeOf('etc')).toBe(0o755);
    expect(await modeOf('etc/passwd')).toBe(0o644);
    expect(await modeOf('etc/group')).toBe(0o644);
    expect(await modeOf('cell')).toBe(0o700);
    expect(await modeOf('compile-cache')).toBe(0o755);
    if (user !== undefined) expect((await lstat(join(dir, 'cell'))).uid).toBe(user.uid);
  });
});
