import { execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMultiTenantError } from '@openclaw-mt/core';
import { deleteTenantUser, osUsersAvailable, TENANT_ACCOUNT_IDS } from '@openclaw-mt/runtime-openclaw';
import { ensureTenantUser, tenantUserName } from '../src/os/tenant-user.js';

// Tenants' OS accounts as root creates them on this host (real useradd, usermod, groupmod).

/** The passwd entry of a uid or name, as NSS answers: `[name, uid, gid, shell]`, or undefined. */
function entryOf(uid: number | string): string[] | undefined {
  try {
    const fields = execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8' })
      .trim()
      .split(':');
    return [fields[0]!, fields[2]!, fields[3]!, fields[6]!];
  } catch {
    return undefined;
  }
}

describe.skipIf(!osUsersAvailable())('tenant OS accounts', () => {
  const made: number[] = [];
  let root: string;

  afterAll(async () => {
    await deleteTenantUser('acct-a', root).catch(() => undefined);
    // The accounts this test made, retired or not: nothing of theirs is left on the host.
    for (const uid of made) {
      const name = entryOf(uid)?.[0];
      if (name !== undefined) execFileSync('userdel', [name]);
    }
    await rm(root, { recursive: true, force: true });
  });

  it("takes each account's uid and gid from the tenants' own range, and a retired account keeps its uid", async () => {
    root = await mkdtemp(join(tmpdir(), 'ocmt-accounts-'));
    const { min, max } = TENANT_ACCOUNT_IDS;
    const first = await ensureTenantUser('acct-a', root);
    made.push(first.uid);
    expect(first.uid).toBeGreaterThanOrEqual(min);
    expect(first.uid).toBeLessThanOrEqual(max);
    expect(first.gid).toBeGreaterThanOrEqual(min);
    expect(first.gid).toBeLessThanOrEqual(max);
    expect(entryOf(first.uid)).toEqual([first.name, String(first.uid), String(first.gid), '/usr/sbin/nologin']);

    expect(await deleteTenantUser('acct-a', root)).toBe(true);
    // Retired: renamed, the uid still taken, so the tenant's next account gets another one from the same range.
    expect(entryOf(first.uid)?.[0]).toMatch(/^ocmx-[0-9a-f]{16}$/);
    const next = await ensureTenantUser('acct-a', root);
    made.push(next.uid);
    expect(next.name).toBe(first.name);
    expect(next.uid).not.toBe(first.uid);
    expect(next.uid).toBeGreaterThanOrEqual(min);
    expect(next.uid).toBeLessThanOrEqual(max);
  });

  it('refuses a tenant with a retryable CAPACITY once no id of the range is free, and makes no account for it', async () => {
    // A range of one id, free as uid and gid, outside the tenants' range (other tests make accounts there meanwhile).
    const id = Array.from({ length: 100 }, (_, i) => 60_100 + i).find((candidate) => {
      try {
        execFileSync('getent', ['group', String(candidate)]);
        return false;
      } catch {
        return entryOf(candidate) === undefined;
      }
    })!;
    const ids = { min: id, max: id };
    const first = await ensureTenantUser('acct-one', root, ids);
    made.push(first.uid);
    expect(first.uid).toBe(id);
    const refused = await ensureTenantUser('acct-two', root, ids).catch((error: unknown) => error);
    expect(isMultiTenantError(refused) && refused.code).toBe('CAPACITY');
    expect(isMultiTenantError(refused) && refused.details).toEqual({ reason: 'os-accounts', min: id, max: id });
    expect(isMultiTenantError(refused) && refused.retryAfterMs).toBeGreaterThan(0);
    // A tenant's client reads the message: no account name or path in it.
    expect(String((refused as Error).message)).not.toMatch(/ocmt-|\//);
    expect(entryOf(tenantUserName('acct-two', await realpath(root)))).toBeUndefined();
  });
});
