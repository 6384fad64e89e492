import assert from 'node:assert/strict';
import type { WorkspaceHandle, WorkspaceStore } from '../contracts/workspace-store.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { collect, rejectsWithCode } from './assertions.js';
import { randomTenantId } from './fixtures.js';

function needs(adapter: AdapterUnderTest): string | undefined {
  return adapter.workspaces === undefined ? 'no workspace store' : undefined;
}

function workspaces(adapter: AdapterUnderTest): WorkspaceStore {
  return adapter.workspaces as WorkspaceStore;
}

const decoder = new TextDecoder();

async function names(handle: WorkspaceHandle, prefix: string): Promise<string[]> {
  return (await handle.list(prefix)).map((file) => file.name);
}

/** Rules of {@link WorkspaceStore} that hand-written adapters most often get wrong. */
export const workspaceStoreEdgeCases: ConformanceCase[] = [
  {
    name: 'workspaces: list takes the prefix literally, by whole names, including a file named exactly the prefix',
    requires: needs,
    async run({ adapter }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      for (const name of [
        'notes/memory',
        'notes/memory-old.md',
        'notes/memoryx/a.md',
        'notes/a_c/x.md',
        'notes/abc/y.md',
        'notes/A_C/z.md',
      ])
        await handle.write(name, name);
      const cases: Array<[string, string[]]> = [
        ['notes/memory', ['notes/memory']],
        ['notes/a_c', ['notes/a_c/x.md']],
        ['notes/mem', []],
        ['notes/memoryx', ['notes/memoryx/a.md']],
      ];
      for (const [prefix, expected] of cases) {
        const actual = await names(handle, prefix);
        assert.deepEqual(
          actual,
          expected,
          `list(${JSON.stringify(prefix)}): expected ${JSON.stringify(expected)}, actual ${JSON.stringify(actual)}`,
        );
      }
      const all = await names(handle, 'notes');
      assert.deepEqual(all, [...all].sort(), `list("notes"): expected names sorted, actual ${JSON.stringify(all)}`);
      await handle.close();
    },
  },
  {
    name: 'workspaces: a name cannot be both a file and a folder (PATH_INVALID, nothing changed)',
    requires: needs,
    async run({ adapter }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      await handle.write('workspace/leaf', 'a file');
      await rejectsWithCode(() => handle.write('workspace/leaf/child.md', 'x'), 'PATH_INVALID', 'write under a file');
      await rejectsWithCode(() => handle.append('workspace/leaf/child.md', 'x'), 'PATH_INVALID', 'append under a file');
      await handle.write('workspace/folder/inside.md', 'inside');
      await rejectsWithCode(() => handle.write('workspace/folder', 'x'), 'PATH_INVALID', 'write over a folder');
      assert.equal(decoder.decode(await handle.read('workspace/leaf')), 'a file', 'read: the file stays as it was');
      assert.deepEqual(await names(handle, 'workspace/leaf'), ['workspace/leaf'], 'list: nothing was created under the file');
      assert.deepEqual(await names(handle, 'workspace/folder'), ['workspace/folder/inside.md'], 'list: the folder stays as it was');
      await handle.close();
    },
  },
  {
    name: 'workspaces: reads return plain Uint8Array, not Buffer',
    requires: needs,
    async run({ adapter }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      await handle.write('workspace/bytes.bin', new Uint8Array([1, 2, 3]));
      for (const name of ['workspace/bytes.bin', 'workspace/AGENTS.md']) {
        const data = await handle.read(name);
        assert.equal(
          Object.getPrototypeOf(data),
          Uint8Array.prototype,
          `read(${name}): expected a plain Uint8Array, actual ${Object.getPrototypeOf(data)?.constructor?.name}`,
        );
      }
      await handle.close();
    },
  },
  {
    name: 'workspaces: a handle opened before destroy fails afterwards and never recreates the workspace',
    requires: needs,
    async run({ adapter }) {
      const store = workspaces(adapter);
      const handle = await store.open(randomTenantId());
      await handle.write('workspace/before.md', 'before');
      assert.equal(await store.destroy(handle.tenantId), true, 'destroy: expected true');
      const refused = async (what: string, action: () => Promise<unknown>) => {
        const outcome = await action().then(
          () => 'succeeded',
          (error: { code?: string }) => error.code,
        );
        assert.ok(
          outcome === 'NOT_FOUND' || outcome === 'CLOSED',
          `${what} after destroy: expected NOT_FOUND or CLOSED, actual ${outcome}`,
        );
      };
      await refused('write', () => handle.write('workspace/after.md', 'after'));
      await refused('append', () => handle.append('workspace/after.md', 'after'));
      await refused('read', () => handle.read('workspace/before.md'));
      await handle.close().catch(() => undefined);
      assert.equal(await store.exists(handle.tenantId), false, 'exists after destroy and a late write: expected false');
      if (store.capabilities.list) {
        const listed = await collect(store.tenants!());
        assert.ok(!listed.includes(handle.tenantId), `tenants(): expected ${handle.tenantId} gone, actual ${JSON.stringify(listed)}`);
      }
    },
  },
  {
    name: 'workspaces: tenant ids and file names are compared exactly, case included',
    requires: needs,
    async run({ adapter }) {
      const lower = randomTenantId('acme');
      const a = await workspaces(adapter).open(lower);
      await a.write('workspace/secret.md', 'lower only');
      await a.write('workspace/Case.md', 'upper C');
      await a.write('workspace/case.md', 'lower c');
      assert.equal(
        decoder.decode(await a.read('workspace/Case.md')),
        'upper C',
        'read(workspace/Case.md): names differing in case are two files',
      );
      assert.equal(await workspaces(adapter).exists(lower.toUpperCase()), false, `exists(${lower.toUpperCase()}): expected false`);
      const b = await workspaces(adapter).open(lower.toUpperCase());
      await rejectsWithCode(() => b.read('workspace/secret.md'), 'NOT_FOUND', `read by ${lower.toUpperCase()} of ${lower}'s file`);
      await a.close();
      await b.close();
    },
  },
  {
    name: 'workspaces: the quota counts the files already there; replacing a file counts it once',
    requires: needs,
    async run({ adapter, context }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      const size = context.limits.maxFileBytes;
      const room = context.limits.maxWorkspaceBytes - (await handle.usage());
      const fits = Math.floor(room / size);
      for (let i = 0; i < fits; i++) await handle.write(`workspace/fill-${i}.bin`, new Uint8Array(size));
      await handle.write('workspace/fill-0.bin', new Uint8Array(size).fill(1));
      await rejectsWithCode(() => handle.write('workspace/over.bin', new Uint8Array(size)), 'QUOTA_EXCEEDED', 'write past the quota');
      await rejectsWithCode(
        () => handle.append('workspace/over-append.bin', new Uint8Array(size)),
        'QUOTA_EXCEEDED',
        'append past the quota',
      );
      const usage = await handle.usage();
      assert.ok(usage <= context.limits.maxWorkspaceBytes, `usage: expected at most ${context.limits.maxWorkspaceBytes}, actual ${usage}`);
      await handle.close();
    },
  },
  {
    name: 'workspaces: a closed store refuses open with CLOSED',
    requires: needs,
    async run({ adapter }) {
      await workspaces(adapter).close?.();
      await rejectsWithCode(() => workspaces(adapter).open(randomTenantId()), 'CLOSED', 'open after close');
    },
  },
];
