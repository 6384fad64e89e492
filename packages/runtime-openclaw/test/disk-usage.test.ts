import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diskUsage } from '@openclaw-mt/runtime-openclaw';

describe('diskUsage', () => {
  const made: string[] = [];
  afterEach(async () => {
    for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-du-'));
    made.push(dir);
    return dir;
  }

  it('counts nested files, a hard-linked file once, and never follows a symbolic link out of the tree', async () => {
    const root = await tempDir();
    const outside = await tempDir();
    const empty = await diskUsage(root);
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeFile(join(root, 'a', 'b', 'one.bin'), Buffer.alloc(2 ** 20, 1));
    const withFile = await diskUsage(root);
    expect(withFile - empty).toBeGreaterThanOrEqual(2 ** 20);

    await link(join(root, 'a', 'b', 'one.bin'), join(root, 'a', 'same.bin'));
    await writeFile(join(outside, 'big.bin'), Buffer.alloc(8 * 2 ** 20, 1));
    await symlink(outside, join(root, 'elsewhere'));
    expect(await diskUsage(root)).toBeLessThan(withFile + 2 ** 20);
  });

  it('reports 0 for a directory that does not exist', async () => {
    expect(await diskUsage(join(await tempDir(), 'missing'))).toBe(0);
  });
});
