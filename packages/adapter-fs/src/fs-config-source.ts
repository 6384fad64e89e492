import { constants, readFileSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertConfigEntry,
  assertTenantConfig,
  assertTenantId,
  createListeners,
  parseSequenceCursor,
  tenantDirName,
  tenantIdFromDirName,
} from '@openclaw-mt/core/contracts';
import { type ConfigSource, MultiTenantError, type TenantConfigEntry } from '@openclaw-mt/core';
import { type ChangePoller, startChangePoller } from './change-poller.js';
import { META_DIR } from './permissions.js';
import { prepareRootDirectory } from './root-directory.js';
import { errnoCode, storageError } from './storage-error.js';
import { removeAbandonedTempFilesSync, syncDirectory, withFileLock, writeFileAtomic } from '@openclaw-mt/core/helpers';

/** Options for {@link createFsConfigSource}. */
export interface FsConfigSourceOptions {
  /** Directory holding one JSON file per tenant (created 0700 when missing; refused if a symlink or group/world-writable). */
  root: string;
  /** Clock for `updatedAt` (default `Date.now`). */
  now?: () => number;
  /** Longest delay before `watch` reports a change made by another process (default 200 ms). */
  pollIntervalMs?: number;
  /** Give up waiting for another process's lock after this long (default 10 s). */
  lockTimeoutMs?: number;
}

/** A {@link ConfigSource} on local disk, with every optional method. */
export type FsConfigSource = ConfigSource &
  Required<Pick<ConfigSource, 'set' | 'put' | 'remove' | 'changes' | 'tenants' | 'watch' | 'close'>> & {
    /** The realpath of the source's root. */
    readonly root: string;
  };

/** What a tenant's file holds: the entry and the global sequence number of its last change. */
interface ConfigFile {
  format: 1;
  /** Position of this change in the root's change feed; the feed's cursor is the last one seen. */
  sequence: number;
  entry: TenantConfigEntry;
}

const FILE_SUFFIX = '.json';
const encoder = new TextEncoder();

function plainEntry(entry: TenantConfigEntry): TenantConfigEntry {
  // Store exactly the contract's fields, deep-copied, so a caller's object is never aliased.
  return structuredClone({
    tenantId: entry.tenantId,
    status: entry.status,
    config: entry.config,
    version: entry.version,
    updatedAt: entry.updatedAt,
  });
}

/**
 * Tenant configs on local disk: `<root>/<tenant dir>.json` per tenant (directory names from core's
 * injective `tenantDirName`), written atomically. Every change takes the root's lock, gets the next
 * number of a global sequence kept in `<root>/.openclaw-mt/sequence` and stores it in the file, so
 * the change feed's cursor (the last sequence number seen) works across processes. The sequence file
 * is written after the tenant file, and readers only return entries up to the sequence they read
 * first: a change still being written is never skipped, it shows up on the next call.
 */
export function createFsConfigSource(options: FsConfigSourceOptions): FsConfigSource {
  const root = prepareRootDirectory(options.root, 'configRoot');
  const meta = prepareRootDirectory(join(root, META_DIR), 'configRoot');
  removeAbandonedTempFilesSync(root);
  removeAbandonedTempFilesSync(meta);
  const now = options.now ?? Date.now;
  const lockPath = join(meta, 'config.lock');
  const sequencePath = join(meta, 'sequence');
  const lockOptions = { timeoutMs: options.lockTimeoutMs ?? 10_000 };
  const listeners = createListeners<TenantConfigEntry>();
  const unsubscribers = new Set<() => void>();
  let watcher: { poller: ChangePoller; cursor: string } | undefined;
  let closed = false;

  const live = (): void => {
    if (closed) throw new MultiTenantError('CLOSED', 'The config source is closed.');
  };
  const fileName = (tenantId: string): string => `${tenantDirName(tenantId)}${FILE_SUFFIX}`;

  async function readConfigFile(name: string, tenantId?: string): Promise<ConfigFile | undefined> {
    let text: string;
    try {
      text = await readFile(join(root, name), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw storageError(error, 'Reading a tenant config');
    }
    try {
      const file = JSON.parse(text) as ConfigFile;
      assertConfigEntry(file.entry);
      if (!Number.isSafeInteger(file.sequence) || file.sequence < 0) throw new Error('bad sequence');
      if (tenantId !== undefined && file.entry.tenantId !== tenantId) throw new Error('file of another tenant');
      return { format: 1, sequence: file.sequence, entry: plainEntry(file.entry) };
    } catch (error) {
      throw new MultiTenantError(
        'BACKEND_UNAVAILABLE',
        `The config file ${name} is not a valid tenant config file; restore it or write it again through the API.`,
        {
          cause: error,
          details: { file: name },
        },
      );
    }
  }

  /** Every tenant file name in the root. */
  async function configFileNames(): Promise<string[]> {
    const names = await readdir(root);
    return names.filter((name) => name.endsWith(FILE_SUFFIX) && tenantIdFromDirName(name.slice(0, -FILE_SUFFIX.length)) !== undefined);
  }

  async function allFiles(): Promise<ConfigFile[]> {
    const files: ConfigFile[] = [];
    const names = await configFileNames();
    for (let i = 0; i < names.length; i += 64) {
      const batch = await Promise.all(names.slice(i, i + 64).map((name) => readConfigFile(name)));
      for (const file of batch) if (file !== undefined) files.push(file);
    }
    return files;
  }

  /** The last committed sequence number (0 for an empty root). */
  async function committedSequence(): Promise<number> {
    let text: string;
    try {
      text = await readFile(sequencePath, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      // No sequence file (a fresh root, or removed by hand): the highest number in use is the truth.
      return Math.max(0, ...(await allFiles()).map((file) => file.sequence));
    }
    const value = Number(text.trim());
    if (!Number.isSafeInteger(value) || value < 0)
      throw new MultiTenantError('BACKEND_UNAVAILABLE', 'The config sequence file is corrupt; remove it to rebuild it.');
    return value;
  }

  /** The last version of a removed tenant (kept in the meta folder), so a later `set` continues above it. */
  async function removedVersion(tenantId: string): Promise<number> {
    try {
      return Number(await readFile(join(meta, `removed-${fileName(tenantId)}`), 'utf8')) || 0;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 0;
      throw error;
    }
  }

  /** The version a tenant's next entry must exceed: its current one, else the one it had when removed. */
  async function highWater(tenantId: string, current: TenantConfigEntry | undefined): Promise<number> {
    return current?.version ?? (await removedVersion(tenantId));
  }

  /** Writes a tenant's new entry under the lock, numbered with the next sequence. */
  async function commit(entry: TenantConfigEntry): Promise<void> {
    const sequence = (await committedSequence()) + 1;
    const file: ConfigFile = { format: 1, sequence, entry };
    await writeFileAtomic(join(root, fileName(entry.tenantId)), encoder.encode(`${JSON.stringify(file, null, 2)}\n`));
    await writeFileAtomic(join(meta, 'sequence'), encoder.encode(`${sequence}\n`));
    watcher?.poller.kick();
  }

  function locked<T>(what: string, task: () => Promise<T>): Promise<T> {
    return withFileLock(lockPath, task, lockOptions).catch((error: unknown) => {
      throw storageError(error, what);
    });
  }

  async function changes(cursor?: string, limit = 500): Promise<{ entries: TenantConfigEntry[]; cursor: string; hasMore: boolean }> {
    const after = parseSequenceCursor(cursor);
    if (typeof limit !== 'number' || Number.isNaN(limit)) throw new MultiTenantError('BAD_REQUEST', 'limit must be a number.');
    const size = Math.max(1, Math.floor(limit));
    try {
      // Read the committed number first: anything numbered above it may still be mid-commit.
      const upTo = await committedSequence();
      const pending = (await allFiles())
        .filter((file) => file.sequence > after && file.sequence <= upTo)
        .sort((a, b) => a.sequence - b.sequence);
      const taken = pending.slice(0, size);
      const hasMore = pending.length > taken.length;
      const last = hasMore ? taken.at(-1)!.sequence : Math.max(after, upTo);
      return { entries: taken.map((file) => file.entry), cursor: String(last), hasMore };
    } catch (error) {
      throw storageError(error, 'Reading config changes');
    }
  }

  function startWatcher(): { poller: ChangePoller; cursor: string } {
    let start = 0;
    try {
      start = Number(readFileSync(sequencePath, 'utf8').trim()) || 0;
    } catch {
      // No sequence yet: every change from the first one on is news.
    }
    const state = {
      cursor: String(start),
      poller: startChangePoller({
        directory: meta,
        intervalMs: options.pollIntervalMs ?? 200,
        check: async () => {
          for (;;) {
            const page = await changes(state.cursor, 500);
            if (state !== watcher) return;
            state.cursor = page.cursor;
            for (const entry of page.entries) listeners.emit(entry);
            if (!page.hasMore) return;
          }
        },
      }),
    };
    return state;
  }

  return {
    name: 'fs',
    capabilities: { write: true, changes: true, watch: true, list: true },
    root,
    async get(tenantId) {
      assertTenantId(tenantId);
      live();
      return (await readConfigFile(fileName(tenantId), tenantId))?.entry;
    },
    async set(tenantId, update, setOptions = {}) {
      assertTenantId(tenantId);
      const config = update.config === undefined ? undefined : structuredClone(assertTenantConfig(update.config));
      const { ifVersion } = setOptions;
      if (ifVersion !== undefined && (!Number.isSafeInteger(ifVersion) || ifVersion < 0)) {
        throw new MultiTenantError('BAD_REQUEST', 'ifVersion must be a non-negative integer (0 for "no entry yet").');
      }
      live();
      return locked('Writing a tenant config', async () => {
        const current = (await readConfigFile(fileName(tenantId), tenantId))?.entry;
        if (ifVersion !== undefined && ifVersion !== (current?.version ?? 0)) {
          throw new MultiTenantError(
            'CONFLICT',
            `Config of ${tenantId} changed (now version ${current?.version ?? 0}); re-read and retry.`,
          );
        }
        const next = assertConfigEntry({
          tenantId,
          status: update.status ?? current?.status ?? 'active',
          config: config ?? current?.config ?? {},
          version: (await highWater(tenantId, current)) + 1,
          updatedAt: now(),
        });
        await commit(next);
        return plainEntry(next);
      });
    },
    async put(entry) {
      const valid = plainEntry(assertConfigEntry(entry));
      live();
      return locked('Writing a tenant config', async () => {
        const current = (await readConfigFile(fileName(valid.tenantId), valid.tenantId))?.entry;
        if ((await highWater(valid.tenantId, current)) >= valid.version) return false;
        await commit(valid);
        return true;
      });
    },
    async remove(tenantId) {
      assertTenantId(tenantId);
      live();
      return locked('Removing a tenant config', async () => {
        const current = (await readConfigFile(fileName(tenantId), tenantId))?.entry;
        if (current === undefined) return false;
        await writeFileAtomic(join(meta, `removed-${fileName(tenantId)}`), encoder.encode(`${current.version}\n`));
        try {
          await unlink(join(root, fileName(tenantId)));
        } catch (error) {
          if (errnoCode(error) === 'ENOENT') return false;
          throw error;
        }
        await syncDirectory(root);
        return true;
      });
    },
    changes(cursor, limit) {
      live();
      return changes(cursor, limit);
    },
    async *tenants() {
      live();
      let names: string[];
      try {
        names = await configFileNames();
      } catch (error) {
        throw storageError(error, 'Listing tenant configs');
      }
      for (const name of names) yield tenantIdFromDirName(name.slice(0, -FILE_SUFFIX.length))!;
    },
    watch(listener) {
      live();
      const remove = listeners.add(listener);
      watcher ??= startWatcher();
      let active = true;
      const unsubscribe = (): void => {
        if (!active) return;
        active = false;
        remove();
        unsubscribers.delete(unsubscribe);
        if (unsubscribers.size === 0 && watcher !== undefined) {
          watcher.poller.stop();
          watcher = undefined;
        }
      };
      unsubscribers.add(unsubscribe);
      return unsubscribe;
    },
    async close() {
      closed = true;
      for (const unsubscribe of [...unsubscribers]) unsubscribe();
      listeners.clear();
    },
  };
}
