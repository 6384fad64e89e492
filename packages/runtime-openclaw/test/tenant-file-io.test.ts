import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantFileIO } from '../src/os/tenant-file-io.js';

const asRoot = process.platform === 'linux' && process.getuid?.() === 0;
const nobody = { name: 'nobody', uid: 65_534, gid: 65_534 };

describe.skipIf(!asRoot)("files written as the tenant's user", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocmt-file-io-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a helper that exits without reading its input is a coded failure, never an uncaught broken pipe', async () => {
    // `false` exits at once: a megabyte of input cannot fit the pipe, so writing it meets a closed pipe (EPIPE).
    const io = tenantFileIO(nobody, '/bin/false');
    for (let attempt = 0; attempt < 5; attempt++) {
      await expect(io.write(join(dir, 'openclaw.json'), 'x'.repeat(2 ** 20))).rejects.toMatchObject({ code: 'INTERNAL' });
      await expect(io.read(join(dir, 'openclaw.json'))).rejects.toMatchObject({ code: 'INTERNAL' });
    }
  });
});
