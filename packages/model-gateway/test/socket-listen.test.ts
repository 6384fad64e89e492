import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/harness.js';

// A tenant's Unix socket is made without touching anything the rest of the process shares: the host that runs the
// model gateway creates cells' directories at the same time, on other threads.

describe('per-tenant Unix sockets', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'ocmt-socket-listen-'));
  });
  afterAll(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the modes of the directories this process makes meanwhile as they were asked for', async () => {
    const sockets = [];
    const dirs: string[] = [];
    for (let round = 0; round < 40; round++) {
      // Each socket's first step is queued ahead of the directories, so it is bound while they are being made.
      const listening = Promise.all(Array.from({ length: 4 }, (_, i) => h.gateway.listenFor('alice', join(dir, `${round}-${i}.sock`))));
      const made = Array.from({ length: 100 }, (_, i) => join(dir, `d-${round}-${i}`));
      dirs.push(...made);
      await Promise.all(made.map((path) => mkdir(path, { mode: 0o700 })));
      sockets.push(...(await listening));
    }
    const modes = await Promise.all(dirs.map(async (path) => (await lstat(path)).mode & 0o777));
    // 0700 under the usual umasks (022, 002, 077): the umask of this process only ever clears group and other bits.
    expect(modes.filter((mode) => mode !== 0o700)).toEqual([]);
    await Promise.all(sockets.map((socket) => socket.close()));
    // Every socket went with its listener, and nothing of its making is left beside it.
    expect((await readdir(dir)).filter((name) => !name.startsWith('d-'))).toEqual([]);
  });
});
