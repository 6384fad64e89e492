import {
  MultiTenantError,
  type WorkspaceFileInfo,
  type WorkspaceHandle,
  type WorkspaceLimits,
  type WorkspaceStore,
} from '@openclaw-mt/core';
import {
  assertTenantId,
  assertNoFileFolderClash,
  assertWithinLimits,
  assertWorkspacePath,
  isUnderPrefix,
  syncWorkspaceTemplate,
  toBytes,
  type TemplateManifest,
  type TemplateSyncIO,
  type WorkspaceTemplate,
} from '@openclaw-mt/core/contracts';
import type { SharedDatabase } from './database.js';
import { closedError, guard } from './sqlite-errors.js';

const NAME = 'sqlite';
const WHAT = 'sqlite workspace store';
/** How often `open` retries its template sync when another writer raced it. */
const SYNC_ATTEMPTS = 5;

/** Options of {@link createSqliteWorkspaceStore}. */
export interface SqliteWorkspaceStoreOptions {
  /** What new workspaces start with; untouched files follow later versions. */
  template: WorkspaceTemplate;
  /** Already resolved (see `resolveWorkspaceLimits`). */
  limits: WorkspaceLimits;
}

interface FileRow {
  name: string;
  size: number;
  modified_at: number;
}

/** The binding returns BLOBs as Buffers; callers get a plain Uint8Array view (no copy). */
function asUint8Array(data: Buffer): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A Buffer view of `data` for binding as a BLOB (no copy). */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A {@link WorkspaceStore} keeping each file as one row of `workspace_files` and each workspace's
 * existence and template manifest as one row of `workspaces`. Writes check the limits and write
 * the row in the same `BEGIN IMMEDIATE` transaction, so parallel writers can never overshoot the
 * quota together.
 */
export function createSqliteWorkspaceStore(shared: SharedDatabase, options: SqliteWorkspaceStoreOptions): WorkspaceStore {
  const { db } = shared;
  const { template, limits } = options;
  shared.retain();
  let closed = false;
  const handles = new Set<{ close(): Promise<void> }>();

  const selectWorkspace = db.prepare<[string], { manifest: string | null }>('SELECT manifest FROM workspaces WHERE tenant_id = ?');
  const ensureWorkspace = db.prepare<[string, number]>(
    'INSERT OR IGNORE INTO workspaces (tenant_id, manifest, created_at) VALUES (?, NULL, ?)',
  );
  const saveManifest = db.prepare<[string, string]>('UPDATE workspaces SET manifest = ? WHERE tenant_id = ?');
  const deleteWorkspace = db.prepare<[string]>('DELETE FROM workspaces WHERE tenant_id = ?');
  const allWorkspaces = db.prepare<[], { tenant_id: string }>('SELECT tenant_id FROM workspaces');
  const readData = db.prepare<[string, string], { data: Buffer }>('SELECT data FROM workspace_files WHERE tenant_id = ? AND name = ?');
  const fileSize = db.prepare<[string, string], { size: number }>(
    'SELECT length(data) AS size FROM workspace_files WHERE tenant_id = ? AND name = ?',
  );
  const usageOf = db.prepare<[string], { total: number }>(
    'SELECT COALESCE(SUM(length(data)), 0) AS total FROM workspace_files WHERE tenant_id = ?',
  );
  const upsertFile = db.prepare<[string, string, Buffer, number]>(
    `INSERT INTO workspace_files (tenant_id, name, data, modified_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant_id, name) DO UPDATE SET data = excluded.data, modified_at = excluded.modified_at`,
  );
  const deleteFile = db.prepare<[string, string]>('DELETE FROM workspace_files WHERE tenant_id = ? AND name = ?');
  const deleteFiles = db.prepare<[string]>('DELETE FROM workspace_files WHERE tenant_id = ?');
  const listAll = db.prepare<[string], FileRow>(
    'SELECT name, length(data) AS size, modified_at FROM workspace_files WHERE tenant_id = ? ORDER BY name',
  );
  // '/' is 0x2F and '0' is 0x30: the range [prefix/, prefix0) is exactly the names under prefix/.
  const listUnder = db.prepare<[string, string, string, string], FileRow>(
    `SELECT name, length(data) AS size, modified_at FROM workspace_files
     WHERE tenant_id = ? AND (name = ? OR (name >= ? AND name < ?)) ORDER BY name`,
  );

  const anyFileIn = db.prepare<[string, string, string], { found: number }>(
    'SELECT 1 AS found FROM workspace_files WHERE tenant_id = ? AND name >= ? AND name < ? LIMIT 1',
  );

  const writeTx = db.transaction((tenantId: string, name: string, data: Uint8Array, append: boolean) => {
    const now = Date.now();
    // A handle that outlived destroy() must not bring the workspace back.
    if (selectWorkspace.get(tenantId) === undefined)
      throw new MultiTenantError('NOT_FOUND', `The workspace of ${tenantId} was destroyed.`, { details: { tenantId } });
    if (fileSize.get(tenantId, name) === undefined)
      assertNoFileFolderClash(name, {
        isFile: (candidate) => fileSize.get(tenantId, candidate) !== undefined,
        // '/' is 0x2F and '0' is 0x30: [folder, folder-without-slash + '0') is exactly the names under it.
        hasFilesUnder: (folder) => anyFileIn.get(tenantId, folder, `${folder.slice(0, -1)}0`) !== undefined,
      });
    const old = append ? readData.get(tenantId, name)?.data : undefined;
    const oldSize = append ? (old?.byteLength ?? 0) : (fileSize.get(tenantId, name)?.size ?? 0);
    const next = append && old !== undefined ? Buffer.concat([old, data]) : asBuffer(data);
    assertWithinLimits(limits, name, next.byteLength, oldSize, usageOf.get(tenantId)!.total);
    upsertFile.run(tenantId, name, next, now);
  });

  const destroyTx = db.transaction((tenantId: string): boolean => {
    const files = deleteFiles.run(tenantId).changes;
    const workspace = deleteWorkspace.run(tenantId).changes;
    return files + workspace > 0;
  });

  // Template sync, optimistic: the core policy runs on a snapshot in memory (it is async and must
  // not hold a transaction across awaits), then its writes commit in one immediate transaction only
  // if nothing it looked at changed meanwhile. Otherwise it runs again on a fresh snapshot.
  const readSnapshot = db.transaction((tenantId: string) => {
    const manifest = selectWorkspace.get(tenantId)?.manifest ?? null;
    const files = new Map<string, Buffer | undefined>();
    for (const name of template.files.keys()) files.set(name, readData.get(tenantId, name)?.data);
    return { manifest, files };
  });

  const commitSync = db.transaction(
    (
      tenantId: string,
      snapshot: { manifest: string | null; files: Map<string, Buffer | undefined> },
      writes: Map<string, Uint8Array>,
      manifest: string | undefined,
    ) => {
      const now = Date.now();
      const current = selectWorkspace.get(tenantId);
      if ((current?.manifest ?? null) !== snapshot.manifest) return false;
      for (const name of writes.keys()) {
        const seen = snapshot.files.get(name);
        const stored = readData.get(tenantId, name)?.data;
        if (seen === undefined ? stored !== undefined : stored === undefined || !seen.equals(stored)) return false;
      }
      ensureWorkspace.run(tenantId, now);
      // Template files are the operator's content: they are written without the tenant's quota check.
      for (const [name, data] of writes) upsertFile.run(tenantId, name, asBuffer(data), now);
      if (manifest !== undefined) saveManifest.run(manifest, tenantId);
      return true;
    },
  );

  const syncTemplate = async (tenantId: string): Promise<void> => {
    for (let attempt = 0; attempt < SYNC_ATTEMPTS; attempt++) {
      const snapshot = guard(WHAT, () => readSnapshot(tenantId));
      const writes = new Map<string, Uint8Array>();
      let manifest: string | undefined;
      const io: TemplateSyncIO = {
        async readManifest() {
          return snapshot.manifest === null ? undefined : (JSON.parse(snapshot.manifest) as TemplateManifest);
        },
        async writeManifest(next) {
          manifest = JSON.stringify(next);
        },
        async readFile(name) {
          const data = writes.get(name) ?? snapshot.files.get(name);
          return data === undefined ? undefined : new Uint8Array(data);
        },
        async writeFile(name, data) {
          writes.set(name, data);
        },
      };
      await syncWorkspaceTemplate(io, template);
      if (guard(WHAT, () => commitSync.immediate(tenantId, snapshot, writes, manifest))) return;
    }
    throw new MultiTenantError('CONFLICT', `The workspace of ${tenantId} kept changing while its template was applied; retry.`, {
      details: { tenantId },
    });
  };

  const storeOpen = (): void => {
    if (closed || !shared.open) throw closedError('The SQLite workspace store');
  };

  const createHandle = (tenantId: string): WorkspaceHandle => {
    let handleClosed = false;
    const check = (): void => {
      if (handleClosed) throw closedError(`The workspace handle of ${tenantId}`);
      storeOpen();
    };
    const handle: WorkspaceHandle = {
      tenantId,

      async read(name) {
        check();
        assertWorkspacePath(name);
        const row = guard(WHAT, () => readData.get(tenantId, name));
        if (row === undefined) throw new MultiTenantError('NOT_FOUND', `${name} does not exist.`, { details: { name } });
        return asUint8Array(row.data);
      },

      async write(name, data) {
        check();
        assertWorkspacePath(name);
        const bytes = toBytes(data);
        guard(WHAT, () => writeTx.immediate(tenantId, name, bytes, false));
      },

      async append(name, data) {
        check();
        assertWorkspacePath(name);
        const bytes = toBytes(data);
        guard(WHAT, () => writeTx.immediate(tenantId, name, bytes, true));
      },

      async list(prefix) {
        check();
        if (prefix !== undefined && prefix !== '') assertWorkspacePath(prefix);
        const rows = guard(WHAT, () =>
          prefix === undefined || prefix === '' ? listAll.all(tenantId) : listUnder.all(tenantId, prefix, `${prefix}/`, `${prefix}0`),
        );
        return rows
          .filter((row) => isUnderPrefix(row.name, prefix ?? ''))
          .map((row): WorkspaceFileInfo => ({ name: row.name, size: row.size, modifiedAt: row.modified_at }));
      },

      async remove(name) {
        check();
        assertWorkspacePath(name);
        return guard(WHAT, () => deleteFile.run(tenantId, name).changes > 0);
      },

      async usage() {
        check();
        return guard(WHAT, () => usageOf.get(tenantId)!.total);
      },

      async flush() {
        // Every write is already committed; there is nothing to persist. Still refuses when closed.
        check();
      },

      async close() {
        handleClosed = true;
        handles.delete(handle);
      },
    };
    return handle;
  };

  return {
    name: NAME,
    capabilities: { localDirectory: false, fencing: false, list: true },
    limits,

    async open(tenantId) {
      storeOpen();
      assertTenantId(tenantId);
      await syncTemplate(tenantId);
      storeOpen();
      const handle = createHandle(tenantId);
      handles.add(handle);
      return handle;
    },

    async exists(tenantId) {
      storeOpen();
      assertTenantId(tenantId);
      return guard(WHAT, () => selectWorkspace.get(tenantId) !== undefined);
    },

    async destroy(tenantId) {
      storeOpen();
      assertTenantId(tenantId);
      return guard(WHAT, () => destroyTx.immediate(tenantId));
    },

    async *tenants() {
      storeOpen();
      // Read everything first: a write while an iterator is open is refused by some bindings (better-sqlite3).
      const ids = guard(WHAT, () => allWorkspaces.all().map((row) => row.tenant_id));
      yield* ids;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...handles].map((handle) => handle.close()));
      shared.release();
    },
  };
}
