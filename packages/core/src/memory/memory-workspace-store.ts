import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type { WorkspaceFileInfo, WorkspaceHandle, WorkspaceLimits, WorkspaceStore } from '../contracts/workspace-store.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { syncWorkspaceTemplate, type TemplateManifest } from '../workspace/template-sync.js';
import { assertWithinLimits, resolveWorkspaceLimits, toBytes } from '../workspace/workspace-limits.js';
import { assertNoFileFolderClash, assertWorkspacePath, isUnderPrefix } from '../workspace/workspace-path.js';
import { defaultWorkspaceTemplate, type WorkspaceTemplate } from '../workspace/workspace-template.js';

/** Options for {@link createMemoryWorkspaceStore}. */
export interface MemoryWorkspaceStoreOptions {
  /** Files new workspaces start with; defaults to the built-in template. */
  template?: WorkspaceTemplate;
  limits?: Partial<WorkspaceLimits>;
  now?: () => number;
  /** Backing map; pass the same one to two stores to simulate reopening persistent storage. */
  data?: MemoryWorkspaceData;
}

interface StoredFile {
  data: Uint8Array;
  modifiedAt: number;
}

/** Backing state of a memory workspace store (opaque). */
export type MemoryWorkspaceData = Map<string, TenantFiles>;

interface TenantFiles {
  files: Map<string, StoredFile>;
  manifest?: TemplateManifest;
  usage: number;
}

/** A {@link WorkspaceStore} with every optional method, as the in-memory store provides. */
export type MemoryWorkspaceStore = WorkspaceStore & Required<Pick<WorkspaceStore, 'tenants' | 'close'>>;

/** Tenant workspaces in process memory. Every write is applied whole, so it is atomic by construction. */
export function createMemoryWorkspaceStore(options: MemoryWorkspaceStoreOptions = {}): MemoryWorkspaceStore {
  const limits = resolveWorkspaceLimits(options.limits);
  const template = options.template ?? defaultWorkspaceTemplate();
  const now = options.now ?? Date.now;
  const tenants: MemoryWorkspaceData = options.data ?? new Map();

  let storeClosed = false;
  const usable = (): void => {
    if (storeClosed) throw new MultiTenantError('CLOSED', 'The memory workspace store is closed.');
  };

  function putFile(state: TenantFiles, name: string, data: Uint8Array): void {
    if (!state.files.has(name))
      assertNoFileFolderClash(name, {
        isFile: (candidate) => state.files.has(candidate),
        hasFilesUnder: (folder) => [...state.files.keys()].some((other) => other.startsWith(folder)),
      });
    const old = state.files.get(name)?.data.byteLength ?? 0;
    assertWithinLimits(limits, name, data.byteLength, old, state.usage);
    state.files.set(name, { data: data.slice(), modifiedAt: now() });
    state.usage += data.byteLength - old;
  }

  function handleFor(tenantId: string, state: TenantFiles): WorkspaceHandle {
    let closed = false;
    const live = (): TenantFiles => {
      if (closed) throw new MultiTenantError('CLOSED', `The workspace handle of ${tenantId} is closed.`);
      if (tenants.get(tenantId) !== state) throw new MultiTenantError('NOT_FOUND', `The workspace of ${tenantId} was destroyed.`);
      return state;
    };
    return {
      tenantId,
      async read(name) {
        const file = live().files.get(assertWorkspacePath(name));
        if (file === undefined) throw new MultiTenantError('NOT_FOUND', `${name}: no such file.`, { details: { name } });
        return file.data.slice();
      },
      async write(name, data) {
        putFile(live(), assertWorkspacePath(name), toBytes(data));
      },
      async append(name, data) {
        const current = live();
        const path = assertWorkspacePath(name);
        const extra = toBytes(data);
        const old = current.files.get(path)?.data ?? new Uint8Array();
        const joined = new Uint8Array(old.byteLength + extra.byteLength);
        joined.set(old);
        joined.set(extra, old.byteLength);
        putFile(current, path, joined);
      },
      async list(prefix = '') {
        if (prefix !== '') assertWorkspacePath(prefix);
        const out: WorkspaceFileInfo[] = [];
        for (const [name, file] of live().files) {
          if (isUnderPrefix(name, prefix)) out.push({ name, size: file.data.byteLength, modifiedAt: file.modifiedAt });
        }
        return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      },
      async remove(name) {
        const current = live();
        const path = assertWorkspacePath(name);
        const file = current.files.get(path);
        if (file === undefined) return false;
        current.files.delete(path);
        current.usage -= file.data.byteLength;
        return true;
      },
      async usage() {
        return live().usage;
      },
      async flush() {
        live();
      },
      async close() {
        closed = true;
      },
    };
  }

  return {
    name: 'memory',
    capabilities: { localDirectory: false, fencing: false, list: true },
    limits,
    async open(tenantId) {
      usable();
      assertTenantId(tenantId);
      let state = tenants.get(tenantId);
      if (state === undefined) {
        state = { files: new Map(), usage: 0 };
        tenants.set(tenantId, state);
      }
      const target = state;
      await syncWorkspaceTemplate(
        {
          readManifest: async () => target.manifest,
          writeManifest: async (manifest) => {
            target.manifest = manifest;
          },
          readFile: async (name) => target.files.get(name)?.data,
          writeFile: async (name, data) => putFile(target, name, data),
        },
        template,
      );
      return handleFor(tenantId, state);
    },
    async exists(tenantId) {
      usable();
      return tenants.has(assertTenantId(tenantId));
    },
    async destroy(tenantId) {
      usable();
      return tenants.delete(assertTenantId(tenantId));
    },
    async *tenants() {
      yield* [...tenants.keys()];
    },
    async close() {
      // The data lives as long as the store object; only this instance stops answering.
      storeClosed = true;
    },
  };
}
