import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { MultiTenantError } from '@openclaw-mt/core';
import { listProcesses } from './process-table.js';
import { accountsNamed, removeAccount, RETIRED_USER_PREFIX, type TenantUser } from './tenant-user.js';

/** Why a retired account was kept. */
export type KeptReason = 'files' | 'processes';

/** What {@link pruneRetiredAccounts} did. */
export interface PruneResult {
  /** Removed (`userdel`): their uids may be handed to new tenants. */
  removed: TenantUser[];
  /** Kept: a process runs as it, or a file under the scanned paths is its. */
  kept: Array<TenantUser & { reason: KeptReason }>;
}

/** Options of {@link pruneRetiredAccounts}. */
export interface PruneOptions {
  /** Trees searched for files of a retired uid, each within its own file system (`find -xdev`). */
  scan: readonly string[];
  /** Only these uids (default: every retired account). */
  uids?: readonly number[];
}

/** The retired tenant accounts on this host (`ocmx-…`): tenants destroyed or gone, their uids still taken. */
export function retiredAccounts(): Promise<TenantUser[]> {
  return accountsNamed(RETIRED_USER_PREFIX);
}

/** The uids among `uids` that own something under `paths`: one `find` over all of them. Fails closed. */
function uidsWithFiles(paths: readonly string[], uids: readonly number[]): Promise<Set<number>> {
  const test = uids.flatMap((uid, index) => [...(index === 0 ? [] : ['-o']), '-uid', String(uid)]);
  return new Promise((resolve, reject) => {
    execFile(
      'find',
      [...paths, '-xdev', '(', ...test, ')', '-printf', '%U\\n'],
      { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 },
      (error, stdout, stderr) => {
        // A file that vanished during the walk is no file left; any other failure (a tree it could not read) may hide one.
        const vanished = stderr
          .split('\n')
          .filter((line) => line.trim() !== '')
          .every((line) => line.includes('No such file or directory'));
        if (error !== null && !(error.code === 1 && vanished)) {
          reject(new MultiTenantError('INTERNAL', `find could not search ${paths.join(', ')}: ${stderr.trim().slice(0, 300)}`));
          return;
        }
        resolve(new Set(stdout.split('\n').filter(Boolean).map(Number)));
      },
    );
  });
}

/**
 * Removes the retired accounts nothing is left of: no process runs as them and no file under `scan` is theirs (search
 * `/`, and every other file system where a tenant's process could have written, unless every cell ran sandboxed:
 * then the data directory is enough). Their uids can then go to new tenants. Root only.
 */
export async function pruneRetiredAccounts(options: PruneOptions): Promise<PruneResult> {
  if (options.scan.length === 0) throw new MultiTenantError('CONFIG_INVALID', 'Name at least one directory to search for files.');
  for (const path of options.scan)
    if (!(await stat(path).catch(() => undefined))?.isDirectory())
      throw new MultiTenantError('CONFIG_INVALID', `${path} is not a directory to search for files.`, { details: { key: 'scan' } });
  const only = options.uids === undefined ? undefined : new Set(options.uids);
  const candidates = (await retiredAccounts()).filter((account) => only === undefined || only.has(account.uid));
  const result: PruneResult = { removed: [], kept: [] };
  if (candidates.length === 0) return result;
  const running = new Set((await listProcesses()).map((entry) => entry.uid));
  const owning = await uidsWithFiles(
    options.scan,
    candidates.map((account) => account.uid),
  );
  for (const account of candidates) {
    if (running.has(account.uid)) result.kept.push({ ...account, reason: 'processes' });
    else if (owning.has(account.uid)) result.kept.push({ ...account, reason: 'files' });
    else if (await removeAccount(account)) result.removed.push(account);
  }
  return result;
}
