import { mkdir, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  MultiTenantError,
  isMultiTenantError,
  type TenantClaim,
  type WorkspaceHandle,
  type WorkspaceLimits,
  type WorkspaceStore,
} from '@openclaw-mt/core';
import {
  assertTenantId,
  assertWithinLimits,
  assertWorkspacePath,
  defaultWorkspaceTemplate,
  isUnderPrefix,
  resolveWorkspaceLimits,
  tenantDirName,
  toBytes,
  type WorkspaceTemplate,
} from '@openclaw-mt/core/contracts';
import { KeyedMutex } from '@openclaw-mt/core/helpers';
import { appendLocalFile, preparePath, readLocalFile, removeLocalFile, stageFile, writeLocalFile } from './local-files.js';
import { RemoteWorkspace } from './remote-workspace.js';
import { scanTenants } from './scan-tenants.js';
import { openStore, type RedisStoreOptions } from './store-options.js';
import { WorkspaceMirror } from './workspace-mirror.js';

/** A {@link WorkspaceStore} with every optional method, as the Redis store provides. */
export type RedisWorkspaceStore = WorkspaceStore & Required<Pick<WorkspaceStore, 'tenants' | 'close'>>;

/** Options for {@link createRedisWorkspaceStore}. */
export interface RedisWorkspaceStoreOptions extends RedisStoreOptions {
  /** Node-local directory where open workspaces are materialised (one subdirectory per tenant). */
  localDir: string;
  /** Files new workspaces start with; defaults to the built-in template. */
  template?: WorkspaceTemplate;
  limits?: Partial<WorkspaceLimits>;
  /** Clock for `modifiedAt` (tests). */
  now?: () => number;
}

function fenceOf(tenantId: string, claim: TenantClaim | undefined): number | undefined {
  if (claim === undefined) return undefined;
  if (claim === null || typeof claim !== 'object' || claim.tenantId !== tenantId || !Number.isSafeInteger(claim.fence) || claim.fence < 1) {
    throw new MultiTenantError('BAD_REQUEST', `The claim passed to open() is not a claim on ${tenantId}.`);
  }
  return claim.fence;
}

/** Failures after which keeping the local copy would be pointless or wrong. */
function discardsLocalCopy(error: unknown): boolean {
  return isMultiTenantError(error) && ['LEASE_LOST', 'NOT_FOUND', 'FILE_TOO_LARGE', 'QUOTA_EXCEEDED', 'PATH_ESCAPE'].includes(error.code);
}

/**
 * Tenant workspaces kept in Redis (per tenant: a state hash, a meta hash of name → size and mtime,
 * one string per file — all under the tenant's hash tag) and materialised, while open, into a
 * node-local directory `<localDir>/<tenantDirName>/{workspace,agent,sessions}` (dirs 0700, files
 * 0600) that a child process can work in.
 *
 * Consistency: Redis holds the durable copy, the directory the working copy. Handle writes, appends
 * and removals go to Redis first — one Lua script that checks the claim's fence and the size caps
 * atomically — and then to the directory, one operation at a time per tenant, so both copies change
 * in the same order. Handle reads come from the directory, so they also see what a child process
 * wrote there. Changes made directly in the directory are written back by `flush`, `close`, `list`
 * and `usage` (and before an `append` to the same file), as one fenced batch per write-back.
 *
 * Fencing: `open(tenantId, { claim })` keeps the claim's fence; every write and write-back is refused
 * with `LEASE_LOST` once the tenant's fence in Redis is newer, so a node whose lease expired cannot
 * overwrite the new owner's data.
 */
export function createRedisWorkspaceStore(options: RedisWorkspaceStoreOptions): RedisWorkspaceStore {
  if (typeof options.localDir !== 'string' || options.localDir === '') {
    throw new MultiTenantError('CONFIG_INVALID', 'localDir: expected a directory path for materialised workspaces.');
  }
  const limits = resolveWorkspaceLimits(options.limits);
  const template = options.template ?? defaultWorkspaceTemplate();
  const now = options.now ?? Date.now;
  const { keys, connection, release } = openStore(options);
  const mirrors = new Map<string, WorkspaceMirror>();
  const handles = new Set<WorkspaceHandle>();
  /** Open / last close / destroy of one tenant, one at a time. */
  const lifecycle = new KeyedMutex();
  /** Operations on one tenant's copies, one at a time. */
  const operations = new KeyedMutex();
  let base: Promise<string> | undefined;
  let closed = false;

  function live(): void {
    if (closed) throw new MultiTenantError('CLOSED', 'The Redis workspace store is closed.');
  }

  function localBase(): Promise<string> {
    base ??= (async () => {
      const dir = resolve(options.localDir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return realpath(dir);
    })();
    base.catch(() => {
      base = undefined;
    });
    return base;
  }

  function remoteOf(tenantId: string): RemoteWorkspace {
    return new RemoteWorkspace(connection, keys, tenantId, limits, now);
  }

  /** Called by a handle's close: drops the local copy with the last handle (unless told to keep it). */
  function letGo(tenantId: string, mirror: WorkspaceMirror, keepLocal: boolean): Promise<void> {
    return lifecycle.run(tenantId, async () => {
      if (--mirror.refs > 0 || mirrors.get(tenantId) !== mirror) return;
      mirrors.delete(tenantId);
      // A copy whose write-back failed for a transient reason stays on disk for inspection; the next
      // open of this tenant replaces it with the Redis copy.
      if (!keepLocal) await mirror.remove();
    });
  }

  function handleFor(tenantId: string, mirror: WorkspaceMirror, fence: number | undefined): WorkspaceHandle {
    const { remote, root } = mirror;
    let handleClosed = false;
    const check = (): void => {
      if (handleClosed) throw new MultiTenantError('CLOSED', `The workspace handle of ${tenantId} is closed.`);
      if (mirror.destroyed) throw new MultiTenantError('NOT_FOUND', `The workspace of ${tenantId} was destroyed.`);
    };
    const exclusive = <T>(work: () => Promise<T>): Promise<T> =>
      operations.run(tenantId, async () => {
        check();
        return work();
      });
    /** Writes back local changes (all, or only `names`). */
    const writeBack = async (names?: readonly string[]): Promise<void> => {
      const changes = await mirror.changes(names);
      if (changes.length === 0) return;
      await remote.writeBack(fence, changes);
      mirror.settled(changes);
    };

    const handle: WorkspaceHandle = {
      tenantId,
      directory: root,
      async read(name) {
        check();
        const path = assertWorkspacePath(name);
        const data = await readLocalFile(root, path);
        if (data === undefined) throw new MultiTenantError('NOT_FOUND', `${path}: no such file.`, { details: { name: path } });
        return data;
      },
      async write(name, data) {
        check();
        const path = assertWorkspacePath(name);
        const bytes = toBytes(data);
        // Refuse the obvious before moving bytes anywhere; the script re-checks atomically.
        assertWithinLimits(limits, path, bytes.byteLength, 0, 0);
        await exclusive(async () => {
          const staged = await stageFile(root, path, bytes);
          try {
            await remote.write(fence, 'set', path, bytes);
          } catch (error) {
            await staged.discard();
            throw error;
          }
          await staged.commit();
          await mirror.stamp(path, WorkspaceMirror.digest(bytes));
        });
      },
      async append(name, data) {
        check();
        const path = assertWorkspacePath(name);
        const bytes = toBytes(data);
        assertWithinLimits(limits, path, bytes.byteLength, 0, 0);
        await exclusive(async () => {
          // A child process may have changed the file locally: Redis gets that first, then the append.
          await writeBack([path]);
          await preparePath(root, path);
          await remote.write(fence, 'append', path, bytes);
          try {
            await appendLocalFile(root, path, bytes);
          } catch (error) {
            // Redis has the append; make the local copy match it again.
            const current = await remote.read(path);
            if (current !== undefined) await writeLocalFile(root, path, current).catch(() => undefined);
            await mirror.stamp(path, current && WorkspaceMirror.digest(current));
            throw error;
          }
          await mirror.stamp(path, undefined);
        });
      },
      async list(prefix = '') {
        check();
        if (prefix !== '') assertWorkspacePath(prefix);
        await exclusive(() => writeBack());
        return (await remote.files()).filter((file) => isUnderPrefix(file.name, prefix));
      },
      async remove(name) {
        check();
        const path = assertWorkspacePath(name);
        return exclusive(async () => {
          const inRedis = await remote.remove(fence, path);
          const onDisk = await removeLocalFile(root, path);
          mirror.forget(path);
          return inRedis || onDisk;
        });
      },
      async usage() {
        check();
        await exclusive(() => writeBack());
        return remote.usage();
      },
      async flush() {
        check();
        await exclusive(() => writeBack());
      },
      async close() {
        if (handleClosed) return;
        handleClosed = true;
        handles.delete(handle);
        let failure: unknown;
        try {
          await operations.run(tenantId, async () => {
            if (!mirror.destroyed) await writeBack();
          });
        } catch (error) {
          failure = error;
        }
        await letGo(tenantId, mirror, failure !== undefined && !discardsLocalCopy(failure));
        if (failure !== undefined) throw failure;
      },
    };
    handles.add(handle);
    return handle;
  }

  return {
    name: 'redis',
    capabilities: { localDirectory: true, fencing: true, list: true },
    limits,
    async open(tenantId, openOptions = {}) {
      assertTenantId(tenantId);
      const fence = fenceOf(tenantId, openOptions.claim);
      live();
      const root = join(await localBase(), tenantDirName(tenantId));
      return lifecycle.run(tenantId, async () => {
        live();
        const existing = mirrors.get(tenantId);
        const remote = existing?.remote ?? remoteOf(tenantId);
        const created = await remote.init(fence);
        if (existing !== undefined && !created) {
          existing.refs++;
          return handleFor(tenantId, existing, fence);
        }
        if (existing !== undefined) {
          // Destroyed elsewhere while open here: the old copy is void.
          existing.destroyed = true;
          mirrors.delete(tenantId);
        }
        await remote.syncTemplate(fence, template);
        const mirror = new WorkspaceMirror(root, remote);
        try {
          await operations.run(tenantId, () => mirror.materialise());
        } catch (error) {
          await mirror.remove().catch(() => undefined);
          throw error;
        }
        mirror.refs = 1;
        mirrors.set(tenantId, mirror);
        return handleFor(tenantId, mirror, fence);
      });
    },
    async exists(tenantId) {
      assertTenantId(tenantId);
      live();
      return remoteOf(tenantId).exists();
    },
    async destroy(tenantId) {
      assertTenantId(tenantId);
      live();
      return lifecycle.run(tenantId, async () => {
        const existed = await remoteOf(tenantId).destroy();
        const mirror = mirrors.get(tenantId);
        if (mirror !== undefined) {
          mirror.destroyed = true;
          mirrors.delete(tenantId);
          await operations.run(tenantId, () => mirror.remove());
        }
        return existed;
      });
    },
    async *tenants() {
      live();
      yield* scanTenants(connection, keys, 'ws:state');
    },
    async close() {
      if (closed) return;
      // Write back and drop whatever is still open, then let go of Redis.
      await Promise.allSettled([...handles].map((handle) => handle.close()));
      closed = true;
      await release();
    },
  };
}
