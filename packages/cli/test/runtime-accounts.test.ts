import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { osUsersAvailable } from '@openclaw-mt/runtime-openclaw';
import { run, tempDir } from './support/cli-process.js';

// `openclaw-mt runtime accounts` as root, on a retired account of its own (made as the runtime retires one: `ocmx-…`,
// locked, its uid in the tenants' range). Every prune names that uid: other test files retire accounts meanwhile.

const uidOf = (name: string) => Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());

describe.skipIf(!osUsersAvailable())('openclaw-mt runtime accounts', () => {
  let cwd: string;
  let scan: string;
  const name = `ocmx-${randomBytes(8).toString('hex')}`;
  let uid: number;

  beforeAll(async () => {
    cwd = await tempDir();
    scan = join(cwd, 'scan');
    await mkdir(scan);
    const range = ['SYS_UID_MIN=70000', 'SYS_UID_MAX=99999', 'SYS_GID_MIN=70000', 'SYS_GID_MAX=99999'].flatMap((key) => ['--key', key]);
    execFileSync('useradd', ['--system', ...range, '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name]);
    execFileSync('usermod', ['--lock', '--expiredate', '1', name]);
    uid = uidOf(name);
  });
  afterAll(async () => {
    try {
      execFileSync('userdel', [name], { stdio: 'ignore' });
    } catch {
      // Pruned by the test.
    }
    await rm(cwd, { recursive: true, force: true });
  });

  it('lists retired accounts, keeps one that owns a file, removes it once the file is gone, and refuses a missing tree', async () => {
    const listed = await run(['runtime', 'accounts', '--json'], { cwd });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).retired).toContainEqual({ name, uid, gid: expect.any(Number) });

    const file = join(scan, 'left.txt');
    await writeFile(file, 'x');
    await chown(file, uid, uid);
    const kept = await run(['runtime', 'accounts', '--prune', '--scan', scan, '--uid', String(uid)], { cwd });
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`kept    ${name} (uid ${uid}): it owns files`);
    expect(uidOf(name)).toBe(uid);

    const missing = await run(['runtime', 'accounts', '--prune', '--scan', join(cwd, 'missing'), '--uid', String(uid)], { cwd });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('CONFIG_INVALID');

    await rm(file);
    const pruned = await run(['runtime', 'accounts', '--prune', '--scan', scan, '--uid', String(uid), '--json'], { cwd });
    expect(pruned.code).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ removed: [{ name, uid, gid: expect.any(Number) }], kept: [] });
    expect(() => execFileSync('getent', ['passwd', name])).toThrow();
  });
});
