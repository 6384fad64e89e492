import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createFileExclusive,
  isTempFileName,
  removeAbandonedTempFiles,
  removeAbandonedTempFilesSync,
  stageFileAtomic,
  writeFileAtomic,
} from '@openclaw-mt/core/helpers';
import { tempDirs } from './temp-dir.js';

const dirs = tempDirs('atomic');
afterAll(() => dirs.cleanup());

describe('writeFileAtomic', () => {
  test('replaces the file whole, 0600 whatever the umask, and leaves no temp file', async () => {
    const dir = dirs.make();
    const path = join(dir, 'state.json');
    const umask = process.umask(0o000);
    try {
      await writeFileAtomic(path, 'one');
      await writeFileAtomic(path, new TextEncoder().encode('two'));
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['state.json']);
    await writeFileAtomic(path, 'three', { mode: 0o640 });
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  test('a failing check leaves the old content and no temp file behind', async () => {
    const dir = dirs.make();
    const path = join(dir, 'file');
    await writeFileAtomic(path, 'old');
    const refused = new Error('outside');
    await expect(writeFileAtomic(path, 'new', { verify: async () => Promise.reject(refused) })).rejects.toBe(refused);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['file']);
  });

  test('concurrent writers each land whole: the file holds exactly one of their contents', async () => {
    const dir = dirs.make();
    const path = join(dir, 'race');
    const bodies = Array.from({ length: 20 }, (_, i) => `writer ${i} `.repeat(1_000));
    await Promise.all(bodies.map((body) => writeFileAtomic(path, body)));
    expect(bodies).toContain(readFileSync(path, 'utf8'));
    expect(readdirSync(dir)).toEqual(['race']);
  });
});

describe('stageFileAtomic', () => {
  test('the target changes only on commit; discard leaves it as it was', async () => {
    const dir = dirs.make();
    const path = join(dir, 'cache');
    await writeFileAtomic(path, 'v1');
    const staged = await stageFileAtomic(path, 'v2', { durable: false });
    expect(readFileSync(path, 'utf8')).toBe('v1');
    expect(readdirSync(dir).filter(isTempFileName)).toHaveLength(1);
    await staged.commit();
    expect(readFileSync(path, 'utf8')).toBe('v2');
    const dropped = await stageFileAtomic(path, 'v3');
    await dropped.discard();
    expect(readFileSync(path, 'utf8')).toBe('v2');
    expect(readdirSync(dir)).toEqual(['cache']);
  });

  test('a commit onto a directory fails and removes the temp file', async () => {
    const dir = dirs.make();
    const staged = await stageFileAtomic(dir, 'x');
    await expect(staged.commit()).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST|EBUSY/) });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('createFileExclusive', () => {
  test('creates once, complete; a second call finds it and changes nothing', async () => {
    const dir = dirs.make();
    const path = join(dir, 'record');
    expect(await createFileExclusive(path, 'first')).toBe(true);
    expect(await createFileExclusive(path, 'second')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['record']);
  });

  test('never follows a link planted at the name', async () => {
    const dir = dirs.make();
    const target = join(dirs.make(), 'elsewhere');
    symlinkSync(target, join(dir, 'record'));
    expect(await createFileExclusive(join(dir, 'record'), 'data')).toBe(false);
    expect(() => statSync(target)).toThrow();
  });
});

describe('abandoned temp files', () => {
  test('a temp file of a dead writer is swept; other files and live temp files stay', async () => {
    const dir = dirs.make();
    writeFileSync(join(dir, '.ocmt-4194305-0123456789ab.tmp'), 'left by a crash');
    writeFileSync(join(dir, 'keep.json'), '{}');
    const live = await stageFileAtomic(join(dir, 'live'), 'pending');
    expect(await removeAbandonedTempFiles(dir)).toBe(1);
    expect(readdirSync(dir).filter((name) => !isTempFileName(name))).toEqual(['keep.json']);
    expect(readdirSync(dir).filter(isTempFileName)).toHaveLength(1);
    await live.commit();
    writeFileSync(join(dir, '.ocmt-4194305-ba9876543210.tmp'), 'another');
    expect(removeAbandonedTempFilesSync(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['keep.json', 'live']);
    expect(await removeAbandonedTempFiles(join(dir, 'missing'))).toBe(0);
  });
});
