import { execFileSync, spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTenantUser, osUsersAvailable, pruneRetiredAccounts, retiredAccounts } from '@openclaw-mt/runtime-openclaw';
import { ensureTenantUser } from '../src/os/tenant-user.js';

// Retired tenant accounts (real useradd, usermod, userdel): removed only once nothing of theirs is left. Each test
// prunes only its own uid: other files of this suite retire accounts at the same time.

/** The passwd entry's name of a uid, or undefined. */
function nameOf(uid: number): string | undefined {
  try {
    return execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8' }).split(':')[0];
  } catch {
    return undefined;
  }
}

describe.skipIf(!osUsersAvailable())('pruning retired tenant accounts', () => {
  let root: string;
  let scan: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ocmt-prune-'));
    scan = join(root, 'scan');
    await mkdir(scan);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a retired account that owns a file or runs a process, and removes it once nothing of it is left', async () => {
    const tenantRoot = join(root, 'tenant');
    await mkdir(tenantRoot);
    const { uid } = await ensureTenantUser('prune-a', tenantRoot);
    const file = join(scan, 'deep', 'left.txt');
    await mkdir(join(scan, 'deep'));
    await writeFile(file, 'a file of the tenant');
    await chown(file, uid, uid);
    expect(await deleteTenantUser('prune-a', tenantRoot)).toBe(true);
    const retired = nameOf(uid);
    expect(retired).toMatch(/^ocmx-[0-9a-f]{16}$/);
    expect((await retiredAccounts()).map((account) => account.uid)).toContain(uid);

    expect(await pruneRetiredAccounts({ scan: [scan], uids: [uid] })).toEqual({
      removed: [],
      kept: [{ name: retired, uid, gid: expect.any(Number), reason: 'files' }],
    });
    expect(nameOf(uid)).toBe(retired);

    await rm(file);
    const sleeper = spawn('sleep', ['30'], { uid, gid: uid, stdio: 'ignore' });
    try {
      await new Promise((resolve) => sleeper.once('spawn', resolve));
      const running = await pruneRetiredAccounts({ scan: [scan], uids: [uid] });
      expect(running.kept).toEqual([expect.objectContaining({ uid, reason: 'processes' })]);
      expect(nameOf(uid)).toBe(retired);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }

    const pruned = await pruneRetiredAccounts({ scan: [scan], uids: [uid] });
    expect(pruned).toEqual({ removed: [{ name: retired, uid, gid: expect.any(Number) }], kept: [] });
    expect(nameOf(uid)).toBeUndefined();
    // Its own group went with it.
    expect(() => execFileSync('getent', ['group', retired!])).toThrow();
  });

  it('refuses to prune, and keeps the account, when a tree to search is not there', async () => {
    const tenantRoot = join(root, 'tenant-b');
    await mkdir(tenantRoot);
    const { uid } = await ensureTenantUser('prune-b', tenantRoot);
    await deleteTenantUser('prune-b', tenantRoot);
    const refused = await pruneRetiredAccounts({ scan: [join(root, 'missing')], uids: [uid] }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(nameOf(uid)).toMatch(/^ocmx-/);
    expect((await pruneRetiredAccounts({ scan: [scan], uids: [uid] })).removed).toHaveLength(1);
  });
});
