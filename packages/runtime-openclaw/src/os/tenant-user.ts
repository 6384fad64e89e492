import { execFile } from 'node:child_process';
import { hash, randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { MultiTenantError } from '@openclaw-mt/core';
import { KeyedMutex } from '@openclaw-mt/core/helpers';

/** The OS account a tenant's cell runs as. */
export interface TenantUser {
  name: string;
  uid: number;
  gid: number;
}

/** Prefix of every per-tenant account. */
export const TENANT_USER_PREFIX = 'ocmt-';

/** Whether per-tenant OS users can be used: Linux, and the gateway runs as root. */
export function osUsersAvailable(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0;
}

/**
 * The uids and gids of tenants' accounts: a range of their own, not the system accounts' (100–999 on Debian: shared
 * with the host's services, and never given back, since a retired account keeps its uid, so a host would stop
 * taking new tenants after a few hundred). Clear of regular users (1000–60000), `nobody` (65534) and the subordinate
 * ids that rootless containers are given (from 100000): 30,000 accounts per host, retired ones included.
 */
export const TENANT_ACCOUNT_IDS = { min: 70_000, max: 99_999 } as const;

/** Prefix of a retired account: its uid stays taken, so no new tenant inherits files of the old one. */
export const RETIRED_USER_PREFIX = 'ocmx-';

/**
 * The account name of a tenant: `ocmt-` and 16 hex digits of SHA-256 of the tenant's root directory
 * (its real path, which names the gateway's data directory) and the id. Fixed length and charset
 * whatever the id, so any tenant id maps to a valid user name, distinct ids to distinct users, and
 * the same id served by two gateways with different data directories on one host to two users.
 */
export function tenantUserName(tenantId: string, root: string): string {
  return `${TENANT_USER_PREFIX}${hash('sha256', `${root}\0${tenantId}`, 'hex').slice(0, 16)}`;
}

function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      if (error !== null && typeof error.code === 'string') {
        reject(
          new MultiTenantError(
            'CONFIG_INVALID',
            `Cannot run ${command} (${error.code}); per-tenant OS users need the shadow-utils tools on PATH.`,
            { cause: error },
          ),
        );
        return;
      }
      resolve({ code, stdout, stderr });
    });
  });
}

async function lookup(name: string): Promise<TenantUser | undefined> {
  const { code, stdout } = await run('getent', ['passwd', name]);
  if (code !== 0) return undefined;
  const fields = stdout.trim().split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (fields[0] !== name || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) return undefined;
  return { name, uid, gid };
}

const known = new Map<string, TenantUser>();
// useradd takes a lock on /etc/passwd: one call at a time from this process.
const accounts = new KeyedMutex();

function serially<T>(task: () => Promise<T>): Promise<T> {
  return accounts.run('accounts', task);
}

/**
 * The tenant's OS account, created on first use as a system user without a home or a login shell, its uid and gid
 * in {@link TENANT_ACCOUNT_IDS} (`useradd --system --key SYS_UID_MIN=… --no-create-home --shell /usr/sbin/nologin
 * --user-group`). Root only.
 */
export async function ensureTenantUser(tenantId: string, root: string, ids: AccountIds = TENANT_ACCOUNT_IDS): Promise<TenantUser> {
  return ensureAccount(tenantUserName(tenantId, await realpath(root)), ids);
}

/** A range of uids and gids for accounts (both ends included). */
export interface AccountIds {
  min: number;
  max: number;
}

/** Prefix of the account of a pre-booted cell nobody has claimed yet. */
export const WARM_USER_PREFIX = 'ocmw-';

/**
 * The account of a pre-booted cell, named by its slot directory (created on first use like a tenant's).
 * A claimed cell's account is renamed to its tenant's ({@link renameAccount}), so the slot's next
 * cell gets a new account and uid: a uid never changes hands between tenants.
 */
export async function ensureWarmUser(slotDir: string): Promise<TenantUser> {
  return ensureAccount(`${WARM_USER_PREFIX}${hash('sha256', await realpath(slotDir), 'hex').slice(0, 16)}`);
}

/** Whether the account `name` exists. */
export async function accountExists(name: string): Promise<boolean> {
  return (await lookup(name)) !== undefined;
}

/** Renames an account and its own group (uid and gid stay); `CONFIG_INVALID` when `name` is taken. */
export async function renameAccount(user: TenantUser, name: string): Promise<TenantUser> {
  return serially(async () => {
    if ((await lookup(name)) !== undefined)
      throw new MultiTenantError('CONFIG_INVALID', `The account ${name} exists already; not renaming ${user.name} to it.`);
    const renamed = await run('usermod', ['--login', name, user.name]);
    if (renamed.code !== 0)
      throw new MultiTenantError('INTERNAL', `usermod ${user.name} failed (exit ${renamed.code}): ${renamed.stderr.trim().slice(0, 300)}`);
    const regrouped = await run('groupmod', ['--new-name', name, user.name]);
    if (regrouped.code !== 0 && regrouped.code !== 6)
      throw new MultiTenantError(
        'INTERNAL',
        `groupmod ${user.name} failed (exit ${regrouped.code}): ${regrouped.stderr.trim().slice(0, 300)}`,
      );
    known.delete(user.name);
    const next = { name, uid: user.uid, gid: user.gid };
    known.set(name, next);
    return next;
  });
}

async function ensureAccount(name: string, ids: AccountIds = TENANT_ACCOUNT_IDS): Promise<TenantUser> {
  const cached = known.get(name);
  if (cached !== undefined) return cached;
  return serially(async () => {
    for (let attempt = 0; ; attempt++) {
      const existing = await lookup(name);
      if (existing !== undefined) {
        if (existing.uid === 0 || existing.gid === 0)
          throw new MultiTenantError('CONFIG_INVALID', `The account ${name} has uid or gid 0; refusing to run a tenant as it.`);
        known.set(name, existing);
        return existing;
      }
      const { min, max } = ids;
      const created = await run('useradd', [
        '--system',
        ...['SYS_UID_MIN', 'SYS_GID_MIN'].flatMap((key) => ['--key', `${key}=${min}`]),
        ...['SYS_UID_MAX', 'SYS_GID_MAX'].flatMap((key) => ['--key', `${key}=${max}`]),
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        '--user-group',
        '--comment',
        'openclaw-mt tenant',
        name,
      ]);
      // 9: the name exists (another process made it); 10: /etc/passwd is locked by someone else.
      if (created.code === 0 || created.code === 9) continue;
      // 4: no uid or gid of the range is free (retired accounts keep theirs).
      if (created.code === 4) throw accountsExhausted(ids);
      if (created.code === 10 && attempt < 10) {
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
        continue;
      }
      throw new MultiTenantError('INTERNAL', `useradd ${name} failed (exit ${created.code}): ${created.stderr.trim().slice(0, 300)}`);
    }
  });
}

/**
 * No account is left for another tenant: every id of the range is taken. A tenant's client sees a retryable
 * `CAPACITY` (another node of a fleet, or this one once the operator frees ids, can serve it); the message names no
 * account or path. The operator's remedy: remove retired accounts (`ocmx-…`) whose files are gone
 * (`openclaw-mt runtime accounts --prune`).
 */
function accountsExhausted(ids: AccountIds): MultiTenantError {
  return new MultiTenantError(
    'CAPACITY',
    `This host has no OS account left for another tenant (uids and gids ${ids.min}–${ids.max} are all taken); the operator must free some.`,
    { retryAfterMs: 60_000, details: { reason: 'os-accounts', min: ids.min, max: ids.max } },
  );
}

/**
 * Retires a tenant's OS account (for example after the tenant was destroyed) and returns whether it
 * existed: the account is renamed `ocmx-<random>`, locked and expired, but keeps its uid, so the uid is
 * never handed to a new tenant while a file of the old one may exist anywhere on the host. The tenant
 * id gets a fresh account (and uid) if it comes back. A retired account is removed once nothing of it is
 * left (`pruneRetiredAccounts`, `openclaw-mt runtime accounts --prune`). Stop the tenant's cell first.
 */
export async function deleteTenantUser(tenantId: string, root: string): Promise<boolean> {
  return (await retireAccount(tenantUserName(tenantId, await realpath(root).catch(() => root)))) !== undefined;
}

/** Retires the account `name` as {@link deleteTenantUser} does; returns it as it was, or `undefined` when none exists. */
export async function retireAccount(name: string): Promise<TenantUser | undefined> {
  known.delete(name);
  return serially(async () => {
    const account = await lookup(name);
    if (account === undefined) return undefined;
    const retired = `${RETIRED_USER_PREFIX}${randomBytes(8).toString('hex')}`;
    const renamed = await run('usermod', ['--login', retired, '--lock', '--expiredate', '1', name]);
    if (renamed.code !== 0)
      throw new MultiTenantError('INTERNAL', `usermod ${name} failed (exit ${renamed.code}): ${renamed.stderr.trim().slice(0, 300)}`);
    // Its own group (--user-group) keeps its gid the same way, and frees the name for a new account.
    const regrouped = await run('groupmod', ['--new-name', retired, name]);
    if (regrouped.code !== 0 && regrouped.code !== 6)
      throw new MultiTenantError('INTERNAL', `groupmod ${name} failed (exit ${regrouped.code}): ${regrouped.stderr.trim().slice(0, 300)}`);
    return account;
  });
}

/** Every account on this host whose name starts with `prefix` (NSS's answer: `getent passwd`). */
export async function accountsNamed(prefix: string): Promise<TenantUser[]> {
  const { code, stdout } = await run('getent', ['passwd']);
  if (code !== 0) throw new MultiTenantError('INTERNAL', `getent passwd failed (exit ${code}).`);
  return stdout.split('\n').flatMap((line) => {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || !name.startsWith(prefix)) return [];
    const account = { name, uid: Number(uid), gid: Number(gid) };
    return Number.isSafeInteger(account.uid) && Number.isSafeInteger(account.gid) ? [account] : [];
  });
}

/**
 * Removes an account and its own group (`userdel`), once its uid has nothing left on the host; `false` when the name no
 * longer names that uid (removed or renamed meanwhile), which is left as it is.
 */
export async function removeAccount(account: TenantUser): Promise<boolean> {
  return serially(async () => {
    if ((await lookup(account.name))?.uid !== account.uid) return false;
    const removed = await run('userdel', [account.name]);
    if (removed.code !== 0)
      throw new MultiTenantError(
        'INTERNAL',
        `userdel ${account.name} failed (exit ${removed.code}): ${removed.stderr.trim().slice(0, 300)}`,
      );
    known.delete(account.name);
    return true;
  });
}
