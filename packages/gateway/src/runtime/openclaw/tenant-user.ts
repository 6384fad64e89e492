import { execFile } from 'node:child_process';
import { hash } from 'node:crypto';
import { MultiTenantError } from '@openclaw-mt/core';

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
 * The account name of a tenant: `ocmt-` and 16 hex digits of SHA-256 of the id. Fixed length and
 * charset whatever the id, so any tenant id maps to a valid user name, and distinct ids to distinct users.
 */
export function tenantUserName(tenantId: string): string {
  return `${TENANT_USER_PREFIX}${hash('sha256', tenantId, 'hex').slice(0, 16)}`;
}

function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      if (error !== null && typeof error.code === 'string') {
        reject(new MultiTenantError('CONFIG_INVALID', `Cannot run ${command} (${error.code}); per-tenant OS users need the shadow-utils tools on PATH.`, { cause: error }));
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
let queue: Promise<unknown> = Promise.resolve();

function serially<T>(task: () => Promise<T>): Promise<T> {
  const next = queue.then(task, task);
  queue = next.catch(() => undefined);
  return next;
}

/**
 * The tenant's OS account, created on first use as a system user without a home or a login shell
 * (`useradd --system --no-create-home --shell /usr/sbin/nologin --user-group`). Root only.
 */
export async function ensureTenantUser(tenantId: string): Promise<TenantUser> {
  const name = tenantUserName(tenantId);
  const cached = known.get(name);
  if (cached !== undefined) return cached;
  return serially(async () => {
    for (let attempt = 0; ; attempt++) {
      const existing = await lookup(name);
      if (existing !== undefined) {
        if (existing.uid === 0 || existing.gid === 0) throw new MultiTenantError('CONFIG_INVALID', `The account ${name} has uid or gid 0; refusing to run a tenant as it.`);
        known.set(name, existing);
        return existing;
      }
      const created = await run('useradd', [
        '--system',
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
      if (created.code === 10 && attempt < 10) {
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
        continue;
      }
      throw new MultiTenantError('INTERNAL', `useradd ${name} failed (exit ${created.code}): ${created.stderr.trim().slice(0, 300)}`);
    }
  });
}

/** Removes a tenant's OS account (for example after the tenant was destroyed); returns whether it existed. */
export async function deleteTenantUser(tenantId: string): Promise<boolean> {
  const name = tenantUserName(tenantId);
  known.delete(name);
  return serially(async () => {
    if ((await lookup(name)) === undefined) return false;
    const removed = await run('userdel', [name]);
    if (removed.code !== 0 && removed.code !== 6) throw new MultiTenantError('INTERNAL', `userdel ${name} failed (exit ${removed.code}): ${removed.stderr.trim().slice(0, 300)}`);
    return removed.code === 0;
  });
}
