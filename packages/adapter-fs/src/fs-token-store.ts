import { constants, readdirSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertTenantId,
  assertTokenHash,
  assertTokenRecord,
  isTokenHash,
  isValidTenantId,
  tenantDirName,
  tenantIdFromDirName,
} from '@openclaw-mt/core/contracts';
import { MultiTenantError, type TokenChange, type TokenRecord, type TokenStore } from '@openclaw-mt/core';
import { createChangeJournal } from './change-journal.js';
import { prepareRootDirectory } from './root-directory.js';
import { resolveDirectory } from './safe-path.js';
import { errnoCode, storageError } from './storage-error.js';
import { createFileExclusive, removeAbandonedTempFilesSync, withFileLock, writeFileAtomic } from '@openclaw-mt/core/helpers';

/** Options for {@link createFsTokenStore}. */
export interface FsTokenStoreOptions {
  /** Directory holding the records (created 0700 when missing; refused if a symlink or group/world-writable). */
  root: string;
  /** Longest delay before `watch` reports a change made by another process (default 200 ms). */
  pollIntervalMs?: number;
  /** Give up waiting for another process's lock on a record after this long (default 10 s). */
  lockTimeoutMs?: number;
}

/** A {@link TokenStore} on local disk, with every optional method. */
export type FsTokenStore = TokenStore &
  Required<Pick<TokenStore, 'get' | 'create' | 'revoke' | 'rotate' | 'listByTenant' | 'tenants' | 'watch' | 'close'>> & {
    /** The realpath of the store's root. */
    readonly root: string;
  };

/** What a record file holds: the record, and during a rotation the hash of the token it replaces. */
interface RecordFile {
  format: 1;
  record: TokenRecord;
  /**
   * Set on a successor written by `rotate` before the rotation commits. The successor counts as
   * existing only once the old record's `rotatedTo` names it (the commit point), so a crash between
   * the two writes leaves the rotation undone instead of half-done.
   */
  pendingRotationOf?: string;
}

const CHANGE_TYPES = new Set<TokenChange['type']>(['created', 'revoked', 'rotated']);
const encoder = new TextEncoder();

function parseChange(value: unknown): TokenChange | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, tokenHash, tenantId } = value as Record<string, unknown>;
  if (!CHANGE_TYPES.has(type as TokenChange['type']) || !isTokenHash(tokenHash) || !isValidTenantId(tenantId)) return undefined;
  return { type: type as TokenChange['type'], tokenHash, tenantId };
}

function encode(file: RecordFile): Uint8Array {
  return encoder.encode(`${JSON.stringify(file)}\n`);
}

/**
 * Token records on local disk, one JSON file per token hash (`records/<2 hex>/<hash>.json`), with a
 * per-tenant index (`tenants/<tenant dir>/<hash>`) for `listByTenant` and an append-only change
 * journal (`journal.log`) that `watch` tails, so changes made by other processes (gateway and CLI)
 * are reported too. Creation is lock-free (an atomic `link()` that refuses to replace); revocation
 * and rotation read-modify-write a record under a per-record lock file shared by all processes.
 */
export function createFsTokenStore(options: FsTokenStoreOptions): FsTokenStore {
  const root = prepareRootDirectory(options.root, 'tokenRoot');
  const lockOptions = { timeoutMs: options.lockTimeoutMs ?? 10_000 };
  for (const dir of ['records', 'tenants', 'locks']) prepareRootDirectory(join(root, dir), 'tokenRoot');
  sweepAbandonedTemps(root);
  const journal = createChangeJournal<TokenChange>({
    path: join(root, 'journal.log'),
    parse: parseChange,
    pollIntervalMs: options.pollIntervalMs ?? 200,
  });
  const unsubscribers = new Set<() => void>();
  let closed = false;

  const recordDir = (hash: string): string => join(root, 'records', hash.slice(0, 2));
  const lockPath = (hash: string): string => join(root, 'locks', `${hash}.lock`);

  const live = (): void => {
    if (closed) throw new MultiTenantError('CLOSED', 'The token store is closed.');
  };

  async function readRecordFile(hash: string): Promise<RecordFile | undefined> {
    let text: string;
    try {
      text = await readFile(join(recordDir(hash), `${hash}.json`), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw storageError(error, 'Reading a token record');
    }
    let file: RecordFile;
    try {
      file = JSON.parse(text) as RecordFile;
      assertTokenRecord(file.record);
    } catch (error) {
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'A token record file is unreadable; restore it from a backup or remove it.', {
        cause: error,
      });
    }
    if (file.record.tokenHash !== hash) {
      throw new MultiTenantError(
        'BACKEND_UNAVAILABLE',
        'A token record file holds the record of another hash; restore it from a backup or remove it.',
      );
    }
    return file;
  }

  /** The record if it exists and (for a rotation successor) its rotation has committed. */
  async function readCommitted(hash: string): Promise<RecordFile | undefined> {
    const file = await readRecordFile(hash);
    if (file?.pendingRotationOf === undefined) return file;
    const old = await readRecordFile(file.pendingRotationOf);
    if (old?.record.rotatedTo === hash) return file;
    // The old record may have moved on (rotated again) after finalising us: look again.
    const again = await readRecordFile(hash);
    return again?.pendingRotationOf === undefined ? again : undefined;
  }

  async function writeRecord(file: RecordFile): Promise<void> {
    const dir = recordDir(file.record.tokenHash);
    await writeFileAtomic(join(dir, `${file.record.tokenHash}.json`), encode(file));
  }

  /** Adds the index entry first, so a record never exists without one; returns whether it was new. */
  async function addIndexEntry(record: TokenRecord): Promise<boolean> {
    const dir = await resolveDirectory(join(root, 'tenants'), [tenantDirName(record.tenantId)], 'create', 'token index');
    return createFileExclusive(join(dir!, record.tokenHash), new Uint8Array());
  }

  /** Stores a new record file; `false` if the hash already exists (committed or not). */
  async function createRecord(file: RecordFile): Promise<boolean> {
    const hash = file.record.tokenHash;
    const addedIndex = await addIndexEntry(file.record);
    const dir = await resolveDirectory(join(root, 'records'), [hash.slice(0, 2)], 'create', 'token record');
    const created = await createFileExclusive(join(dir!, `${hash}.json`), encode(file));
    if (!created && addedIndex) {
      // The hash belongs to an existing record (maybe of another tenant): drop the entry we just made.
      await unlink(join(root, 'tenants', tenantDirName(file.record.tenantId), hash)).catch(() => undefined);
    }
    return created;
  }

  /** Clears a successor's pending mark once its rotation committed. Best effort: readers check the commit anyway. */
  async function finalise(successor: string, oldHash: string): Promise<void> {
    await withFileLock(
      lockPath(successor),
      async () => {
        const file = await readRecordFile(successor);
        if (file?.pendingRotationOf === oldHash) await writeRecord({ format: 1, record: file.record });
      },
      lockOptions,
    );
  }

  async function announce(change: TokenChange): Promise<void> {
    try {
      await journal.append(change);
    } catch {
      // The change is committed; a lost journal line only delays watchers until their caches expire.
    }
  }

  return {
    name: 'fs',
    capabilities: { write: true, list: true, watch: true },
    root,
    async get(tokenHash) {
      assertTokenHash(tokenHash);
      live();
      return (await readCommitted(tokenHash))?.record;
    },
    async create(record) {
      const valid: TokenRecord = { ...assertTokenRecord(record) };
      live();
      try {
        if (!(await createRecord({ format: 1, record: valid })))
          throw new MultiTenantError('CONFLICT', 'A token with this hash already exists.');
      } catch (error) {
        throw storageError(error, 'Storing a token record');
      }
      await announce({ type: 'created', tokenHash: valid.tokenHash, tenantId: valid.tenantId });
    },
    async revoke(tokenHash) {
      assertTokenHash(tokenHash);
      live();
      try {
        const revoked = await withFileLock(
          lockPath(tokenHash),
          async () => {
            const file = await readCommitted(tokenHash);
            if (file === undefined) return undefined;
            if (file.record.status === 'revoked') return { record: file.record, changed: false };
            const record: TokenRecord = { ...file.record, status: 'revoked' };
            await writeRecord({ format: 1, record });
            return { record, changed: true };
          },
          lockOptions,
        );
        if (revoked?.changed) await announce({ type: 'revoked', tokenHash, tenantId: revoked.record.tenantId });
        return revoked?.record;
      } catch (error) {
        throw storageError(error, 'Revoking a token');
      }
    },
    async rotate(tokenHash, successor, graceUntil) {
      assertTokenHash(tokenHash);
      const next: TokenRecord = { ...assertTokenRecord(successor) };
      if (!Number.isSafeInteger(graceUntil) || graceUntil < 0)
        throw new MultiTenantError('BAD_REQUEST', 'graceUntil must be epoch milliseconds.');
      live();
      let updated: TokenRecord;
      try {
        updated = await withFileLock(
          lockPath(tokenHash),
          async () => {
            const file = await readCommitted(tokenHash);
            if (file === undefined) throw new MultiTenantError('NOT_FOUND', 'No token with this hash exists.');
            const old = file.record;
            if (old.status !== 'active') throw new MultiTenantError('TOKEN_REVOKED', 'A revoked or expired token cannot be rotated.');
            if (next.tenantId !== old.tenantId)
              throw new MultiTenantError('BAD_REQUEST', 'A successor token must belong to the same tenant.');
            // A previous successor must be final before rotatedTo moves on, or it would read as uncommitted.
            if (old.rotatedTo !== undefined) await finalise(old.rotatedTo, tokenHash);
            if (!(await createRecord({ format: 1, record: next, pendingRotationOf: tokenHash }))) {
              throw new MultiTenantError('CONFLICT', 'A token with this hash already exists.');
            }
            const record: TokenRecord = {
              ...old,
              expiresAt: Math.min(old.expiresAt ?? Number.MAX_SAFE_INTEGER, graceUntil),
              rotatedTo: next.tokenHash,
            };
            await writeRecord({ format: 1, record }); // the commit point
            await finalise(next.tokenHash, tokenHash).catch(() => undefined);
            return record;
          },
          lockOptions,
        );
      } catch (error) {
        throw storageError(error, 'Rotating a token');
      }
      await announce({ type: 'created', tokenHash: next.tokenHash, tenantId: next.tenantId });
      await announce({ type: 'rotated', tokenHash, tenantId: updated.tenantId });
      return updated;
    },
    async listByTenant(tenantId) {
      assertTenantId(tenantId);
      live();
      let names: string[];
      try {
        names = await readdir(join(root, 'tenants', tenantDirName(tenantId)));
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return [];
        throw storageError(error, 'Listing tokens');
      }
      const records: TokenRecord[] = [];
      for (let i = 0; i < names.length; i += 64) {
        const batch = await Promise.all(
          names
            .slice(i, i + 64)
            .filter((name) => isTokenHash(name))
            .map((name) => readCommitted(name)),
        );
        for (const file of batch) if (file !== undefined && file.record.tenantId === tenantId) records.push(file.record);
      }
      return records.sort((a, b) => a.createdAt - b.createdAt || (a.tokenHash < b.tokenHash ? -1 : 1));
    },
    async *tenants() {
      live();
      let names: string[];
      try {
        names = await readdir(join(root, 'tenants'));
      } catch (error) {
        throw storageError(error, 'Listing tenants with tokens');
      }
      for (const name of names) {
        const tenantId = tenantIdFromDirName(name);
        if (tenantId === undefined) continue;
        // An index directory outlives a create that was rolled back: only one naming a token counts.
        const hashes = await readdir(join(root, 'tenants', name)).catch(() => [] as string[]);
        if (hashes.some((hash) => isTokenHash(hash))) yield tenantId;
      }
    },
    watch(listener) {
      live();
      let unsubscribe: () => void;
      try {
        unsubscribe = journal.subscribe(listener);
      } catch (error) {
        throw storageError(error, 'Watching token changes');
      }
      unsubscribers.add(unsubscribe);
      return () => {
        unsubscribers.delete(unsubscribe);
        unsubscribe();
      };
    },
    async close() {
      closed = true;
      unsubscribers.clear();
      journal.close();
    },
  };
}

/** Removes temp files left by writers that died; they never hid a record (records appear by rename or link). */
function sweepAbandonedTemps(root: string): void {
  const dirs = [root, join(root, 'locks')];
  for (const parent of ['records', 'tenants']) {
    for (const name of readdirSync(join(root, parent))) if (!name.startsWith('.')) dirs.push(join(root, parent, name));
    dirs.push(join(root, parent));
  }
  for (const dir of dirs) removeAbandonedTempFilesSync(dir);
}
