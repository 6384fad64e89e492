import {
  createMemoryAdapterState,
  createMemoryConfigSource,
  createMemoryTokenStore,
  createMemoryWorkspaceStore,
} from '@openclaw-mt/core/testing';
import { MultiTenantError, type TenantConfigEntry, type TokenRecord, type WorkspaceHandle, type WorkspaceStore } from '@openclaw-mt/core';
import type { AdapterUnderTest } from '@openclaw-mt/core/testing';
import type { ReferenceStores } from './reference-adapter.js';

/** One deliberately broken adapter: the memory adapter with exactly one contract rule broken. */
export interface Mutant {
  name: string;
  /** The conformance cases most likely to catch it start with this (they run first). */
  area: 'tokens:' | 'configs:' | 'workspaces:' | 'outage:';
  mutate(stores: ReferenceStores): Partial<AdapterUnderTest>;
  /** The mutant enforces the workspace quota itself (the memory store then allows far more). */
  ownQuota?: boolean;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Spread over several event-loop turns, so concurrent callers really interleave.
const jitter = () => pause(Math.random() * 20);

/** The workspace store with every handle passed through `change`. */
function handles(workspaces: WorkspaceStore, change: (handle: WorkspaceHandle) => Partial<WorkspaceHandle>): WorkspaceStore {
  return {
    ...workspaces,
    async open(tenantId, options) {
      const handle = await workspaces.open(tenantId, options);
      return { ...handle, ...change(handle) };
    },
  };
}

const tokenMutants: Mutant[] = [
  {
    name: 'get always answers undefined',
    area: 'tokens:',
    mutate: ({ tokens }) => ({ tokens: { ...tokens, get: async () => undefined } }),
  },
  {
    name: 'get drops the label',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: {
        ...tokens,
        async get(hash) {
          const record = await tokens.get(hash);
          if (record) delete record.label;
          return record;
        },
      },
    }),
  },
  {
    name: 'get returns the stored object, not a copy',
    area: 'tokens:',
    mutate: ({ tokens }) => {
      const live = new Map<string, TokenRecord>();
      return {
        tokens: {
          ...tokens,
          async get(hash) {
            const cached = live.get(hash);
            if (cached) return cached;
            const record = await tokens.get(hash);
            if (record) live.set(hash, record);
            return record;
          },
        },
      };
    },
  },
  {
    name: 'malformed hashes are looked up instead of refused',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: { ...tokens, get: async (hash) => (/^[0-9a-f]{64}$/.test(hash) ? tokens.get(hash) : undefined) },
    }),
  },
  {
    name: 'create stores records without validating them',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async create(record) {
          if (state.tokens.records.has(record.tokenHash)) throw new MultiTenantError('CONFLICT', 'exists');
          state.tokens.records.set(record.tokenHash, { ...record });
        },
      },
    }),
  },
  {
    name: 'create over an existing hash replaces it',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async create(record) {
          state.tokens.records.delete(record.tokenHash);
          await tokens.create(record);
        },
      },
    }),
  },
  {
    name: 'create checks for the hash, then writes (two concurrent creates both win)',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async create(record) {
          if (await tokens.get(record.tokenHash)) throw new MultiTenantError('CONFLICT', 'exists');
          await jitter();
          state.tokens.records.delete(record.tokenHash);
          await tokens.create(record);
        },
      },
    }),
  },
  {
    name: 'revoke reports revoked but stores nothing',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: {
        ...tokens,
        async revoke(hash) {
          const record = await tokens.get(hash);
          return record && { ...record, status: 'revoked' };
        },
      },
    }),
  },
  {
    name: 'revoke of an unknown hash throws',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: {
        ...tokens,
        async revoke(hash) {
          const record = await tokens.revoke(hash);
          if (record === undefined) throw new MultiTenantError('NOT_FOUND', 'unknown');
          return record;
        },
      },
    }),
  },
  {
    name: 'rotate leaves the old token valid past the grace period',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: { ...tokens, rotate: (hash, successor) => tokens.rotate(hash, successor, Number.MAX_SAFE_INTEGER) },
    }),
  },
  {
    name: 'rotate accepts a revoked token',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async rotate(hash, successor, graceUntil) {
          const old = state.tokens.records.get(hash);
          if (old?.status === 'revoked') old.status = 'active';
          return tokens.rotate(hash, successor, graceUntil);
        },
      },
    }),
  },
  {
    name: 'rotate accepts a successor of another tenant',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async rotate(hash, successor, graceUntil) {
          const old = state.tokens.records.get(hash);
          return tokens.rotate(hash, old ? { ...successor, tenantId: old.tenantId } : successor, graceUntil);
        },
      },
    }),
  },
  {
    name: 'rotate stores the successor before its checks',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async rotate(hash, successor, graceUntil) {
          const existed = state.tokens.records.has(successor.tokenHash);
          try {
            return await tokens.rotate(hash, successor, graceUntil);
          } catch (error) {
            if (!existed) state.tokens.records.set(successor.tokenHash, { ...successor });
            throw error;
          }
        },
      },
    }),
  },
  {
    name: 'rotate reports no events',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async rotate(hash, successor, graceUntil) {
          const emit = state.tokens.listeners.emit;
          state.tokens.listeners.emit = () => undefined;
          try {
            return await tokens.rotate(hash, successor, graceUntil);
          } finally {
            state.tokens.listeners.emit = emit;
          }
        },
      },
    }),
  },
  {
    name: "listByTenant matches tenant ids by prefix (LIKE 'id%')",
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async listByTenant(tenantId) {
          await tokens.listByTenant(tenantId);
          return [...state.tokens.records.values()]
            .filter((record) => record.tenantId.startsWith(tenantId))
            .map((record) => ({ ...record }))
            .sort((a, b) => a.createdAt - b.createdAt);
        },
      },
    }),
  },
  {
    name: 'listByTenant compares tenant ids ignoring case',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async listByTenant(tenantId) {
          await tokens.listByTenant(tenantId);
          return [...state.tokens.records.values()]
            .filter((record) => record.tenantId.toLowerCase() === tenantId.toLowerCase())
            .map((record) => ({ ...record }))
            .sort((a, b) => a.createdAt - b.createdAt);
        },
      },
    }),
  },
  {
    name: 'listByTenant lists in insertion order, not oldest first',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async listByTenant(tenantId) {
          await tokens.listByTenant(tenantId);
          return [...state.tokens.records.values()].filter((record) => record.tenantId === tenantId).map((record) => ({ ...record }));
        },
      },
    }),
  },
  {
    name: 'tenants leaves out tenants whose tokens are all revoked or expired',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async *tenants() {
          yield* new Set(
            [...state.tokens.records.values()].filter((record) => record.status === 'active').map((record) => record.tenantId),
          );
        },
      },
    }),
  },
  {
    name: 'tenants names a tenant once per token',
    area: 'tokens:',
    mutate: ({ tokens, state }) => ({
      tokens: {
        ...tokens,
        async *tenants() {
          yield* [...state.tokens.records.values()].map((record) => record.tenantId);
        },
      },
    }),
  },
  {
    name: 'watch misses revocations',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: { ...tokens, watch: (listener) => tokens.watch((change) => change.type !== 'revoked' && listener(change)) },
    }),
  },
  {
    name: 'records do not survive a reopen',
    area: 'tokens:',
    mutate: () => ({ tokens: createMemoryTokenStore({ state: createMemoryAdapterState().tokens }) }),
  },
  {
    name: 'a closed token store keeps answering',
    area: 'tokens:',
    mutate: ({ tokens }) => ({ tokens: { ...tokens, close: async () => undefined } }),
  },
  {
    name: 'create lower-cases the tenant id',
    area: 'tokens:',
    mutate: ({ tokens }) => ({
      tokens: { ...tokens, create: (record) => tokens.create({ ...record, tenantId: record.tenantId.toLowerCase() }) },
    }),
  },
];

const configMutants: Mutant[] = [
  {
    name: 'set does not bump the version',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: {
        ...configs,
        async set(tenantId, update, options) {
          const before = state.configs.entries.get(tenantId)?.entry.version;
          const entry = await configs.set(tenantId, update, options);
          if (before !== undefined) {
            entry.version = before;
            state.configs.entries.get(tenantId)!.entry.version = before;
          }
          return entry;
        },
      },
    }),
  },
  {
    name: 'set ignores ifVersion',
    area: 'configs:',
    mutate: ({ configs }) => ({ configs: { ...configs, set: (tenantId, update) => configs.set(tenantId, update) } }),
  },
  {
    name: 'set accepts an invalid config without an error',
    area: 'configs:',
    mutate: ({ configs }) => ({
      configs: {
        ...configs,
        async set(tenantId, update, options) {
          try {
            return await configs.set(tenantId, update, options);
          } catch (error) {
            if ((error as { code?: string }).code !== 'CONFIG_INVALID') throw error;
            return (await configs.get(tenantId)) ?? configs.set(tenantId, {});
          }
        },
      },
    }),
  },
  {
    name: 'put stores older versions',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: {
        ...configs,
        async put(entry) {
          state.configs.entries.delete(entry.tenantId);
          state.configs.removed.delete(entry.tenantId);
          return configs.put(entry);
        },
      },
    }),
  },
  {
    name: 'remove resets version numbering',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: {
        ...configs,
        async remove(tenantId) {
          const existed = await configs.remove(tenantId);
          state.configs.removed.delete(tenantId);
          return existed;
        },
      },
    }),
  },
  {
    name: 'change numbers are taken before commit (a reader skips late commits)',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: {
        ...configs,
        async set(tenantId, update, options) {
          const ticket = ++state.configs.seq;
          await jitter();
          const entry = await configs.set(tenantId, update, options);
          state.configs.entries.get(tenantId)!.seq = ticket;
          return entry;
        },
      },
    }),
  },
  {
    name: 'changes leaves out suspensions and deletions',
    area: 'configs:',
    mutate: ({ configs }) => ({
      configs: {
        ...configs,
        async changes(cursor, limit) {
          const page = await configs.changes(cursor, limit);
          return { ...page, entries: page.entries.filter((entry) => entry.status === 'active') };
        },
      },
    }),
  },
  {
    name: 'changes ignores the cursor',
    area: 'configs:',
    mutate: ({ configs }) => ({ configs: { ...configs, changes: (_cursor, limit) => configs.changes('', limit) } }),
  },
  {
    name: 'changes orders entries by tenant id, not change order',
    area: 'configs:',
    mutate: ({ configs }) => ({
      configs: {
        ...configs,
        async changes(cursor, limit) {
          const page = await configs.changes(cursor, limit);
          return { ...page, entries: [...page.entries].sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1)) };
        },
      },
    }),
  },
  {
    name: 'tenants leaves out suspended and deleted tenants',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: {
        ...configs,
        async *tenants() {
          for (const [id, { entry }] of state.configs.entries) if (entry.status === 'active') yield id;
        },
      },
    }),
  },
  {
    name: 'get compares tenant ids ignoring case',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: {
        ...configs,
        async get(tenantId) {
          const direct = await configs.get(tenantId);
          if (direct) return direct;
          for (const [id, { entry }] of state.configs.entries)
            if (id.toLowerCase() === tenantId.toLowerCase()) return structuredClone(entry);
          return undefined;
        },
      },
    }),
  },
  {
    name: 'get returns the stored entry, not a copy',
    area: 'configs:',
    mutate: ({ configs, state }) => ({
      configs: { ...configs, get: async (tenantId) => (await configs.get(tenantId)) && state.configs.entries.get(tenantId)!.entry },
    }),
  },
  {
    name: 'a closed config source keeps answering',
    area: 'configs:',
    mutate: ({ configs }) => ({ configs: { ...configs, close: async () => undefined } }),
  },
  {
    name: 'watch misses changes from other instances',
    area: 'configs:',
    mutate: ({ configs }) => {
      const own = new Set<string>();
      return {
        configs: {
          ...configs,
          async set(tenantId, update, options) {
            own.add(tenantId);
            return configs.set(tenantId, update, options);
          },
          watch: (listener) => configs.watch((entry: TenantConfigEntry) => own.has(entry.tenantId) && listener(entry)),
        },
      };
    },
  },
  {
    name: 'config entries do not survive a reopen',
    area: 'configs:',
    mutate: () => ({ configs: createMemoryConfigSource({ state: createMemoryAdapterState().configs }) }),
  },
  {
    name: 'concurrent sets read, then write (updates are lost)',
    area: 'configs:',
    mutate: ({ configs }) => ({
      configs: {
        ...configs,
        async set(tenantId, update, options) {
          if (options?.ifVersion !== undefined) return configs.set(tenantId, update, options);
          const current = await configs.get(tenantId);
          await jitter();
          return configs.set(tenantId, update, { ifVersion: current?.version ?? 0 }).catch(async () => (await configs.get(tenantId))!);
        },
      },
    }),
  },
];

const workspaceMutants: Mutant[] = [
  {
    name: 'read returns a Buffer',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({ read: async (name) => Buffer.from(await handle.read(name)) })),
    }),
  },
  {
    name: 'list treats _ and % in the prefix as LIKE wildcards',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({
        async list(prefix = '') {
          if (prefix === '') return handle.list();
          const like = new RegExp(
            `^${prefix
              .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              .replace(/_/g, '.')
              .replace(/%/g, '.*')}(/|$)`,
          );
          return (await handle.list()).filter((file) => like.test(file.name));
        },
      })),
    }),
  },
  {
    name: 'list leaves out a file named exactly the prefix',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({
        list: async (prefix = '') => (await handle.list(prefix)).filter((file) => file.name !== prefix),
      })),
    }),
  },
  {
    name: 'list matches the prefix by characters, not whole names',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({
        list: async (prefix = '') => (await handle.list()).filter((file) => file.name.startsWith(prefix)),
      })),
    }),
  },
  {
    name: 'list is not sorted',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({ list: async (prefix) => (await handle.list(prefix)).reverse() })),
    }),
  },
  {
    name: 'a file/folder clash is refused with another code',
    area: 'workspaces:',
    mutate: ({ workspaces }) => {
      const recode = (error: unknown) =>
        (error as { code?: string }).code === 'PATH_INVALID' && /file|folder/.test((error as Error).message)
          ? new MultiTenantError('BAD_REQUEST', (error as Error).message)
          : error;
      return {
        workspaces: handles(workspaces, (handle) => ({
          write: (name, data) => handle.write(name, data).catch((error) => Promise.reject(recode(error))),
          append: (name, data) => handle.append(name, data).catch((error) => Promise.reject(recode(error))),
        })),
      };
    },
  },
  {
    name: 'hostile names are ignored instead of refused',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({
        write: (name, data) =>
          handle
            .write(name, data)
            .catch((error) =>
              (error as { code?: string }).code === 'PATH_INVALID' && name.includes('..') ? undefined : Promise.reject(error),
            ),
      })),
    }),
  },
  {
    name: 'exists answers false for invalid tenant ids',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({ workspaces: { ...workspaces, exists: (tenantId) => workspaces.exists(tenantId).catch(() => false) } }),
  },
  {
    name: 'an oversized file is cut to the limit instead of refused',
    area: 'workspaces:',
    mutate: ({ workspaces, context }) => ({
      workspaces: handles(workspaces, (handle) => ({
        write: (name, data) =>
          handle.write(
            name,
            typeof data === 'string' || data.byteLength <= context.limits.maxFileBytes
              ? data
              : data.subarray(0, context.limits.maxFileBytes),
          ),
      })),
    }),
  },
  {
    name: 'the quota ignores the files already there',
    area: 'workspaces:',
    ownQuota: true,
    mutate: ({ workspaces, context }) => {
      const refuse = (size: number) => {
        if (size > context.limits.maxWorkspaceBytes) throw new MultiTenantError('QUOTA_EXCEEDED', 'over quota');
      };
      return {
        workspaces: handles(workspaces, (handle) => ({
          write: async (name, data) => {
            refuse(typeof data === 'string' ? data.length : data.byteLength);
            return handle.write(name, data);
          },
          append: async (name, data) => {
            refuse(typeof data === 'string' ? data.length : data.byteLength);
            return handle.append(name, data);
          },
        })),
      };
    },
  },
  {
    name: 'open compares tenant ids ignoring case',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: {
        ...workspaces,
        open: (tenantId, options) => workspaces.open(tenantId.toLowerCase(), options),
        exists: (tenantId) => workspaces.exists(tenantId.toLowerCase()),
      },
    }),
  },
  {
    name: 'a handle re-creates its workspace after destroy',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({
        write: (name, data) =>
          handle.write(name, data).catch(async (error) => {
            if ((error as { code?: string }).code !== 'NOT_FOUND') throw error;
            await (await workspaces.open(handle.tenantId)).write(name, data);
          }),
      })),
    }),
  },
  {
    name: 'destroy reports success but keeps the files',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({ workspaces: { ...workspaces, destroy: async (tenantId) => workspaces.exists(tenantId) } }),
  },
  {
    name: 'a closed handle keeps answering',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({ workspaces: handles(workspaces, () => ({ close: async () => undefined })) }),
  },
  {
    name: 'a closed workspace store keeps answering',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({ workspaces: { ...workspaces, close: async () => undefined } }),
  },
  {
    name: 'files do not survive a reopen',
    area: 'workspaces:',
    mutate: ({ context }) => ({ workspaces: createMemoryWorkspaceStore({ template: context.template, limits: context.limits }) }),
  },
  {
    name: 'tenants misses every other workspace',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: {
        ...workspaces,
        async *tenants() {
          let index = 0;
          for await (const id of workspaces.tenants()) if (index++ % 2 === 0) yield id;
        },
      },
    }),
  },
  {
    name: 'concurrent appends read, then write (appends are lost)',
    area: 'workspaces:',
    mutate: ({ workspaces }) => ({
      workspaces: handles(workspaces, (handle) => ({
        async append(name, data) {
          const old = await handle.read(name).catch(() => new Uint8Array());
          await jitter();
          const extra = typeof data === 'string' ? new TextEncoder().encode(data) : data;
          const joined = new Uint8Array(old.byteLength + extra.byteLength);
          joined.set(old);
          joined.set(extra, old.byteLength);
          await handle.write(name, joined);
        },
      })),
    }),
  },
  {
    name: 'one tenant can read another tenant’s files',
    area: 'workspaces:',
    mutate: ({ workspaces, state }) => ({
      workspaces: handles(workspaces, (handle) => ({
        read: (name) =>
          handle.read(name).catch((error) => {
            for (const files of state.workspaces.values()) {
              const found = files.files.get(name);
              if (found) return found.data.slice();
            }
            throw error;
          }),
      })),
    }),
  },
];

const outageMutants: Mutant[] = [
  {
    name: 'an outage is reported as "no such token"',
    area: 'outage:',
    mutate: ({ tokens }) => ({ tokens: { ...tokens, get: (hash) => tokens.get(hash).catch(() => undefined) } }),
  },
  {
    name: 'an outage is reported as a plain Error',
    area: 'outage:',
    mutate: ({ configs }) => ({
      configs: {
        ...configs,
        get: (tenantId) => configs.get(tenantId).catch((error) => Promise.reject(new Error((error as Error).message))),
      },
    }),
  },
  {
    name: 'an outage is reported as "no workspace"',
    area: 'outage:',
    mutate: ({ workspaces }) => ({ workspaces: { ...workspaces, exists: (tenantId) => workspaces.exists(tenantId).catch(() => false) } }),
  },
];

/** Every mutant, each breaking one rule the kit states. */
export const mutants: readonly Mutant[] = [...tokenMutants, ...configMutants, ...workspaceMutants, ...outageMutants];
