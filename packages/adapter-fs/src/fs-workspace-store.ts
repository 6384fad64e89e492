import { createHash, randomBytes } from 'node:crypto';
import { constants, lstatSync, readdirSync, rmSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, lstat, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertTenantId,
  assertWithinLimits,
  assertWorkspacePath,
  loadWorkspaceTemplate,
  resolveWorkspaceLimits,
  syncWorkspaceTemplate,
  type TemplateManifest,
  type TemplateSyncIO,
  tenantDirName,
  tenantIdFromDirName,
  toBytes,
  WORKSPACE_DIRECTORIES,
  type WorkspaceTemplate,
} from '@openclaw-mt/core/contracts';
import {
  isMultiTenantError,
  MultiTenantError,
  type WorkspaceFileInfo,
  type WorkspaceHandle,
  type WorkspaceLimits,
  type WorkspaceStore,
} from '@openclaw-mt/core';
import { FILE_MODE, META_DIR } from './permissions.js';
import { prepareRootDirectory } from './root-directory.js';
import { assertOpenedInside, openNoFollow, pathEscape, resolveDirectory } from './safe-path.js';
import { SEED_PREFIX, isAbandonedSeed, seedWorkspace } from './seed-workspace.js';
import { errnoCode, storageError } from './storage-error.js';
import { listTree } from './workspace-tree.js';
import { workspaceBytes } from './workspace-usage.js';
import { createFileExclusive, KeyedMutex, syncDirectory, withFileLock, writeFileAtomic } from '@openclaw-mt/core/helpers';

/** Options for {@link createFsWorkspaceStore}. */
export interface FsWorkspaceStoreOptions {
  /** Directory holding one root per tenant (created 0700 when missing; refused if a symlink or group/world-writable). */
  root: string;
  /** Files new workspaces start with. Takes precedence over `templatePath`. */
  template?: WorkspaceTemplate;
  /**
   * An operator template directory laid out like an OpenClaw workspace, read with core's
   * `loadWorkspaceTemplate` when the store first opens a workspace. Without either option the
   * built-in defaults are used.
   */
  templatePath?: string;
  /** Per-file and per-tenant size limits (core's defaults when omitted). */
  limits?: Partial<WorkspaceLimits>;
}

/** A {@link WorkspaceStore} on local disk, with every optional method. */
export type FsWorkspaceStore = WorkspaceStore &
  Required<Pick<WorkspaceStore, 'tenants' | 'close'>> & {
    /** The realpath of the store's root. */
    readonly root: string;
  };

/** Writes to one tenant are serialised per process (limits are checked against a consistent total). */
const tenantQueue = new KeyedMutex();

const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
// O_NONBLOCK: opening a FIFO planted in the tree must fail fast instead of hanging the store.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

interface Tenant {
  tenantId: string;
  /** Realpath of the tenant root. */
  root: string;
  /** Identity of the root directory when opened. */
  dev: number;
  ino: number;
  /**
   * A marker file named at random when the workspace was created. Inode numbers are reused, so a
   * destroyed and recreated workspace can have the old root's inode; it never has the old marker.
   */
  marker: string;
}

function notFound(name: string): MultiTenantError {
  return new MultiTenantError('NOT_FOUND', `${name}: no such file.`, { details: { name } });
}

function notAFile(name: string): MultiTenantError {
  return new MultiTenantError('PATH_INVALID', `${name}: this name is a directory or a special file, not a regular file.`, {
    details: { name },
  });
}

function splitName(name: string): { parents: string[]; leaf: string } {
  const parents = name.split('/');
  const leaf = parents.pop()!;
  return { parents, leaf };
}

/**
 * Tenant workspaces on local disk: `<root>/<tenant dir>/` per tenant (core's injective
 * `tenantDirName`) with core's layout (`workspace/`, `agent/`, `sessions/`) and a hidden
 * `.openclaw-mt/` holding the template manifest. The tenant root is a plain directory an OpenClaw
 * process can use (`handle.directory`). Names are checked by core, then resolved without following
 * symlinks (lstat walk, `O_NOFOLLOW` leaf, realpath containment); writes are atomic; directories are
 * 0700 and files 0600 whatever the umask.
 */
export function createFsWorkspaceStore(options: FsWorkspaceStoreOptions): FsWorkspaceStore {
  const root = prepareRootDirectory(options.root, 'workspaceRoot');
  const limits = resolveWorkspaceLimits(options.limits);
  if (options.template === undefined && options.templatePath !== undefined) checkTemplatePath(options.templatePath);
  removeTrash(root);
  let template: Promise<WorkspaceTemplate> | undefined = options.template === undefined ? undefined : Promise.resolve(options.template);
  /** Bytes used per tenant root: counted by the walk at activation, then moved by each write's size delta. */
  const usage = new Map<string, number>();
  let closed = false;

  const loadTemplate = (): Promise<WorkspaceTemplate> => {
    template ??= loadWorkspaceTemplate(options.templatePath).catch((error: unknown) => {
      template = undefined;
      throw error;
    });
    return template;
  };

  /** The tenant's total; a write costs what it writes, so the whole tree is walked only when no total is known. */
  async function currentUsage(tenant: Tenant): Promise<number> {
    const known = usage.get(tenant.root);
    if (known !== undefined) return known;
    const bytes = await workspaceBytes(tenant.root);
    usage.set(tenant.root, bytes);
    return bytes;
  }

  function addUsage(tenant: Tenant, delta: number): void {
    const known = usage.get(tenant.root);
    if (known !== undefined) usage.set(tenant.root, known + delta);
  }

  /** Throws unless the tenant root is still the directory the handle opened. */
  async function checkTenant(tenant: Tenant): Promise<void> {
    const [stats, marker] = await Promise.all([lstat(tenant.root).catch(() => undefined), lstat(tenant.marker).catch(() => undefined)]);
    if (stats === undefined || !stats.isDirectory() || stats.ino !== tenant.ino || stats.dev !== tenant.dev || marker === undefined) {
      throw new MultiTenantError('NOT_FOUND', `The workspace of ${tenant.tenantId} was destroyed.`);
    }
  }

  /** Size of the regular file at `dir/leaf`, 0 when absent; refuses symlinks and non-files. */
  async function existingSize(dir: string | undefined, leaf: string, name: string): Promise<number> {
    if (dir === undefined) return 0;
    let stats: Stats;
    try {
      stats = await lstat(join(dir, leaf));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 0;
      throw error;
    }
    if (stats.isSymbolicLink()) throw pathEscape(name);
    if (!stats.isFile()) throw notAFile(name);
    return stats.size;
  }

  async function readName(tenant: Tenant, name: string, capped: boolean): Promise<Uint8Array> {
    const { parents, leaf } = splitName(name);
    const dir = await resolveDirectory(tenant.root, parents, 'lookup', name);
    if (dir === undefined) throw notFound(name);
    let file: FileHandle;
    try {
      file = await openNoFollow(join(dir, leaf), READ_FLAGS, name);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw notFound(name);
      throw error;
    }
    try {
      const stats = await file.stat();
      if (stats.isDirectory()) throw notFound(name);
      if (!stats.isFile()) throw notAFile(name);
      // A second name for a file may be another tenant's file: never read or change through one.
      if (stats.nlink > 1) throw pathEscape(name);
      if (capped && stats.size > limits.maxFileBytes) {
        throw new MultiTenantError('FILE_TOO_LARGE', `${name}: ${stats.size} bytes exceeds the per-file limit of ${limits.maxFileBytes}.`, {
          details: { name, size: stats.size, limit: limits.maxFileBytes },
        });
      }
      await assertOpenedInside(file, tenant.root, name);
      const data = await file.readFile();
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } finally {
      await file.close();
    }
  }

  async function writeName(tenant: Tenant, name: string, data: Uint8Array): Promise<void> {
    // The per-file limit needs no disk access: refuse before touching anything.
    assertWithinLimits(limits, name, data.byteLength, 0, 0);
    await tenantQueue.run(tenant.root, async () => {
      await checkTenant(tenant);
      const { parents, leaf } = splitName(name);
      const existing = await resolveDirectory(tenant.root, parents, 'lookup', name);
      const old = await existingSize(existing, leaf, name);
      assertWithinLimits(limits, name, data.byteLength, old, await currentUsage(tenant));
      const dir = existing ?? (await resolveDirectory(tenant.root, parents, 'create', name))!;
      await writeFileAtomic(join(dir, leaf), data, { verify: (file) => assertOpenedInside(file, tenant.root, name) });
      addUsage(tenant, data.byteLength - old);
    });
  }

  async function appendName(tenant: Tenant, name: string, data: Uint8Array): Promise<void> {
    assertWithinLimits(limits, name, data.byteLength, 0, 0);
    await tenantQueue.run(tenant.root, async () => {
      await checkTenant(tenant);
      const { parents, leaf } = splitName(name);
      const existing = await resolveDirectory(tenant.root, parents, 'lookup', name);
      const old = await existingSize(existing, leaf, name);
      assertWithinLimits(limits, name, old + data.byteLength, old, await currentUsage(tenant));
      const dir = existing ?? (await resolveDirectory(tenant.root, parents, 'create', name))!;
      const file = await openNoFollow(join(dir, leaf), APPEND_FLAGS, name, FILE_MODE);
      let before: number;
      try {
        const stats = await file.stat();
        if (!stats.isFile()) throw notAFile(name);
        if (stats.nlink > 1) throw pathEscape(name);
        await assertOpenedInside(file, tenant.root, name);
        before = stats.size;
        // Another process may have appended since the check above: check again with the real size.
        if (before !== old) assertWithinLimits(limits, name, before + data.byteLength, before, (await currentUsage(tenant)) - old + before);
        if ((stats.mode & 0o777) !== FILE_MODE) await file.chmod(FILE_MODE);
        // O_APPEND: each write lands at the end, even with other processes appending to the same file.
        await file.writeFile(data);
        await file.datasync();
      } finally {
        await file.close();
      }
      if (old === 0 && before === 0) await syncDirectory(dir);
      addUsage(tenant, before + data.byteLength - old);
    });
  }

  async function removeName(tenant: Tenant, name: string): Promise<boolean> {
    return tenantQueue.run(tenant.root, async () => {
      await checkTenant(tenant);
      const { parents, leaf } = splitName(name);
      const dir = await resolveDirectory(tenant.root, parents, 'lookup', name);
      if (dir === undefined) return false;
      let stats: Stats;
      try {
        stats = await lstat(join(dir, leaf));
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return false;
        throw error;
      }
      if (stats.isSymbolicLink()) throw pathEscape(name);
      if (!stats.isFile()) return false;
      try {
        await unlink(join(dir, leaf));
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return false;
        throw error;
      }
      await syncDirectory(dir);
      addUsage(tenant, -stats.size);
      return true;
    });
  }

  async function listNames(tenant: Tenant, prefix: string): Promise<WorkspaceFileInfo[]> {
    if (prefix === '') return listTree(tenant.root, '');
    const { parents, leaf } = splitName(prefix);
    const dir = await resolveDirectory(tenant.root, parents, 'lookup', prefix);
    if (dir === undefined) return [];
    let stats: Stats;
    try {
      stats = await lstat(join(dir, leaf));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
    if (stats.isSymbolicLink()) throw pathEscape(prefix);
    if (stats.isFile()) return [{ name: prefix, size: stats.size, modifiedAt: Math.floor(stats.mtimeMs) }];
    if (!stats.isDirectory()) return [];
    return listTree(join(dir, leaf), prefix);
  }

  function templateIO(tenant: Tenant): TemplateSyncIO {
    const manifestDir = join(tenant.root, META_DIR);
    return {
      async readManifest() {
        try {
          const text = await readFile(join(manifestDir, 'template.json'), {
            encoding: 'utf8',
            flag: constants.O_RDONLY | constants.O_NOFOLLOW,
          });
          const value = JSON.parse(text) as TemplateManifest;
          if (typeof value.templateId !== 'string' || typeof value.files !== 'object' || value.files === null) return undefined;
          return value;
        } catch {
          // Missing or unreadable: treat the workspace as never synced, which only ever adds missing files.
          return undefined;
        }
      },
      async writeManifest(manifest) {
        await writeFileAtomic(join(manifestDir, 'template.json'), new TextEncoder().encode(`${JSON.stringify(manifest)}\n`));
      },
      async readFile(name) {
        try {
          return await readName(tenant, name, false);
        } catch (error) {
          if (isMultiTenantError(error, 'NOT_FOUND')) return undefined;
          // A symlink or special file where a template file belongs is the tenant's doing: leave it
          // alone, as a customised file (random bytes never match a template digest).
          if (isMultiTenantError(error, 'PATH_ESCAPE') || isMultiTenantError(error, 'PATH_INVALID')) return randomBytes(32);
          throw error;
        }
      },
      async writeFile(name, data) {
        await writeName(tenant, name, data);
      },
    };
  }

  function handleFor(tenant: Tenant): WorkspaceHandle {
    let handleClosed = false;
    const live = (): void => {
      if (handleClosed) throw new MultiTenantError('CLOSED', `The workspace handle of ${tenant.tenantId} is closed.`);
    };
    // Every failure leaves as a coded error; I/O surprises become BACKEND_UNAVAILABLE.
    const guard = async <T>(what: string, task: () => Promise<T>): Promise<T> => {
      try {
        return await task();
      } catch (error) {
        throw storageError(error, what);
      }
    };
    return {
      tenantId: tenant.tenantId,
      directory: tenant.root,
      async read(name) {
        assertWorkspacePath(name);
        live();
        return guard('Reading a workspace file', async () => {
          await checkTenant(tenant);
          return readName(tenant, name, true);
        });
      },
      async write(name, data) {
        assertWorkspacePath(name);
        const bytes = toBytes(data);
        live();
        await guard('Writing a workspace file', () => writeName(tenant, name, bytes));
      },
      async append(name, data) {
        assertWorkspacePath(name);
        const bytes = toBytes(data);
        live();
        await guard('Appending to a workspace file', () => appendName(tenant, name, bytes));
      },
      async list(prefix = '') {
        if (prefix !== '') assertWorkspacePath(prefix);
        live();
        return guard('Listing workspace files', async () => {
          await checkTenant(tenant);
          return listNames(tenant, prefix);
        });
      },
      async remove(name) {
        assertWorkspacePath(name);
        live();
        return guard('Removing a workspace file', () => removeName(tenant, name));
      },
      async usage() {
        live();
        return guard('Measuring workspace usage', async () => {
          await checkTenant(tenant);
          return currentUsage(tenant);
        });
      },
      async flush() {
        // Every write is durable when it returns: nothing is pending.
        live();
        await guard('Checking the workspace', () => checkTenant(tenant));
      },
      async close() {
        handleClosed = true;
      },
    };
  }

  async function openTenant(tenantId: string): Promise<Tenant> {
    const dirName = tenantDirName(tenantId);
    if (
      !(await lstat(join(root, dirName)).then(
        () => true,
        () => false,
      ))
    ) {
      // A new workspace: assemble it whole and rename it into place; it needs no second look.
      const template = await loadTemplate();
      const files = Object.fromEntries(
        [...template.files].map(([name, content]) => [name, createHash('sha256').update(content).digest('hex')]),
      );
      const seeded = await seedWorkspace(root, dirName, template, { templateId: template.id, files });
      if (seeded !== undefined) {
        const tenantRoot = join(root, dirName);
        usage.set(tenantRoot, seeded.usage);
        return { tenantId, root: tenantRoot, dev: seeded.dev, ino: seeded.ino, marker: seeded.marker };
      }
    }
    const tenantRoot = (await resolveDirectory(root, [dirName], 'create', tenantId))!;
    for (const dir of [...WORKSPACE_DIRECTORIES, META_DIR]) await resolveDirectory(tenantRoot, dir.split('/'), 'create', dir);
    const stats = await lstat(tenantRoot);
    const marker = await incarnationMarker(join(tenantRoot, META_DIR));
    const tenant: Tenant = { tenantId, root: tenantRoot, dev: stats.dev, ino: stats.ino, marker };
    // One walk at activation counts the usage (writes then move it by their size delta) and removes
    // temp files left by writers that died mid-write. Queued with the writes so none is counted twice.
    await tenantQueue.run(tenantRoot, async () => {
      usage.set(tenantRoot, await workspaceBytes(tenantRoot, { sweep: true }));
    });
    const current = await loadTemplate();
    const io = templateIO(tenant);
    // Fast path without the lock: the workspace is already up to date with this template.
    if ((await io.readManifest())?.templateId !== current.id) {
      await withFileLock(join(tenantRoot, META_DIR, 'template.lock'), () => syncWorkspaceTemplate(io, current));
    }
    return tenant;
  }

  return {
    name: 'fs',
    capabilities: { localDirectory: true, fencing: false, list: true },
    limits,
    root,
    async open(tenantId) {
      assertTenantId(tenantId);
      if (closed) throw new MultiTenantError('CLOSED', 'The workspace store is closed.');
      try {
        return handleFor(await openTenant(tenantId));
      } catch (error) {
        throw storageError(error, `Opening the workspace of ${tenantId}`);
      }
    },
    async exists(tenantId) {
      const path = join(root, tenantDirName(tenantId));
      const stats = await lstat(path).catch(() => undefined);
      return stats?.isDirectory() ?? false;
    },
    async destroy(tenantId) {
      const path = join(root, tenantDirName(tenantId));
      // Rename first: the workspace vanishes at once for every process; the slow delete follows.
      const trash = join(root, `.trash-${randomBytes(8).toString('hex')}`);
      try {
        await rename(path, trash);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return false;
        throw storageError(error, `Destroying the workspace of ${tenantId}`);
      }
      usage.delete(path);
      await syncDirectory(root).catch(() => undefined);
      // rm never follows symlinks: links planted inside are removed, their targets left alone.
      await rm(trash, { recursive: true, force: true }).catch(() => undefined);
      return true;
    },
    async *tenants() {
      let names: string[];
      try {
        names = await readdir(root);
      } catch (error) {
        throw storageError(error, 'Listing workspaces');
      }
      for (const name of names) {
        const tenantId = tenantIdFromDirName(name);
        if (tenantId === undefined) continue;
        const stats = await lstat(join(root, name)).catch(() => undefined);
        if (stats?.isDirectory()) yield tenantId;
      }
    },
    async close() {
      closed = true;
      usage.clear();
    },
  };
}

const MARKER_PATTERN = /^incarnation-[0-9a-f]{16}$/;

/** The workspace's incarnation marker in its meta dir, created on first use. */
async function incarnationMarker(metaDir: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const existing = (await readdir(metaDir)).filter((name) => MARKER_PATTERN.test(name)).sort()[0];
    if (existing !== undefined) return join(metaDir, existing);
    const name = `incarnation-${randomBytes(8).toString('hex')}`;
    // Two processes creating a workspace at once may each add one; the first by name is used from then on.
    if ((await createFileExclusive(join(metaDir, name), new Uint8Array())) || attempt > 2) return join(metaDir, name);
  }
}

function checkTemplatePath(templatePath: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(templatePath).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) {
    throw new MultiTenantError('CONFIG_INVALID', `templatePath: ${templatePath} is not a readable directory.`, {
      details: { key: 'templatePath' },
    });
  }
}

/**
 * Finishes deletions a crash interrupted (`destroy` renames a workspace to `.trash-*` before deleting
 * it) and removes staging directories of seeders that died. Another process may be deleting the same
 * trash at once, so a failure here is left for the next start.
 */
function removeTrash(root: string): void {
  for (const name of readdirSync(root)) {
    try {
      const leftover =
        name.startsWith('.trash-') || (name.startsWith(SEED_PREFIX) && isAbandonedSeed(name, lstatSync(join(root, name)).mtimeMs));
      if (!leftover) continue;
      rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      // Retried at the next start.
    }
  }
}
