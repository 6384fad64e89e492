import assert from 'node:assert/strict';
import type { WorkspaceHandle, WorkspaceStore } from '../contracts/workspace-store.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { rejectsWithCode } from './assertions.js';
import { HOSTILE_NAMES, randomTenantId, sampleTemplate } from './fixtures.js';

const decoder = new TextDecoder();

function needs(...what: Array<'list'>) {
  return (adapter: AdapterUnderTest): string | undefined => {
    const store = adapter.workspaces;
    if (store === undefined) return 'no workspace store';
    for (const flag of what) if (!store.capabilities[flag]) return `the workspace store lacks the ${flag} capability`;
    return undefined;
  };
}

function workspaces(adapter: AdapterUnderTest): WorkspaceStore {
  return adapter.workspaces!;
}

async function text(handle: WorkspaceHandle, name: string): Promise<string> {
  return decoder.decode(await handle.read(name));
}

async function snapshot(handle: WorkspaceHandle): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of await handle.list()) out.set(file.name, await text(handle, file.name));
  return out;
}

/** Cases every {@link WorkspaceStore} must pass. */
export const workspaceStoreCases: ConformanceCase[] = [
  {
    name: 'workspaces: a new workspace is created from the template',
    requires: needs(),
    async run({ adapter, context }) {
      const tenantId = randomTenantId();
      assert.equal(await workspaces(adapter).exists(tenantId), false);
      const handle = await workspaces(adapter).open(tenantId);
      assert.equal(handle.tenantId, tenantId);
      assert.equal(await workspaces(adapter).exists(tenantId), true);
      for (const [name, content] of context.template.files) {
        assert.equal(await text(handle, name), decoder.decode(content), `${name} comes from the template`);
      }
      await handle.close();
    },
  },
  {
    name: 'workspaces: write, read, append, list, remove and usage agree',
    requires: needs(),
    async run({ adapter }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      const before = await handle.usage();
      await handle.write('workspace/memory/2026-11-27.md', 'first');
      await handle.write('workspace/memory/2026-11-27.md', 'second');
      await handle.append('sessions/main.jsonl', '{"n":1}\n');
      await handle.append('sessions/main.jsonl', new TextEncoder().encode('{"n":2}\n'));
      assert.equal(await text(handle, 'workspace/memory/2026-11-27.md'), 'second');
      assert.equal(await text(handle, 'sessions/main.jsonl'), '{"n":1}\n{"n":2}\n');
      const memory = await handle.list('workspace/memory');
      assert.deepEqual(
        memory.map((file) => file.name),
        ['workspace/memory/2026-11-27.md'],
      );
      assert.equal(memory[0]!.size, 6);
      assert.ok(memory[0]!.modifiedAt > 0);
      const all = (await handle.list()).map((file) => file.name);
      assert.deepEqual(all, [...all].sort(), 'listings are sorted by name');
      assert.ok(all.includes('sessions/main.jsonl'));
      assert.equal(await handle.usage(), before + 6 + 16);
      assert.equal(await handle.remove('workspace/memory/2026-11-27.md'), true);
      assert.equal(await handle.remove('workspace/memory/2026-11-27.md'), false);
      await rejectsWithCode(() => handle.read('workspace/memory/2026-11-27.md'), 'NOT_FOUND');
      assert.equal(await handle.usage(), before + 16);
      await handle.close();
    },
  },
  {
    name: 'workspaces: hostile names are refused with PATH_INVALID and touch nothing',
    requires: needs(),
    async run({ adapter }) {
      const tenantId = randomTenantId();
      const handle = await workspaces(adapter).open(tenantId);
      const before = await snapshot(handle);
      for (const name of HOSTILE_NAMES) {
        const what = JSON.stringify(name);
        await rejectsWithCode(() => handle.read(name), 'PATH_INVALID', `read(${what})`);
        await rejectsWithCode(() => handle.write(name, 'x'), 'PATH_INVALID', `write(${what})`);
        await rejectsWithCode(() => handle.append(name, 'x'), 'PATH_INVALID', `append(${what})`);
        await rejectsWithCode(() => handle.remove(name), 'PATH_INVALID', `remove(${what})`);
        if (name !== '') await rejectsWithCode(() => handle.list(name), 'PATH_INVALID', `list(${what})`);
      }
      assert.deepEqual(await snapshot(handle), before);
      await handle.close();
    },
  },
  {
    name: 'workspaces: invalid tenant ids are refused with TENANT_ID_INVALID',
    requires: needs(),
    async run({ adapter }) {
      for (const bad of ['', '..', '../x', 'a/b', 'a\\b', 'x\0', '.hidden', 'é', 'a'.repeat(101)]) {
        await rejectsWithCode(() => workspaces(adapter).open(bad), 'TENANT_ID_INVALID', `open(${JSON.stringify(bad)})`);
        await rejectsWithCode(() => workspaces(adapter).exists(bad), 'TENANT_ID_INVALID', `exists(${JSON.stringify(bad)})`);
      }
    },
  },
  {
    name: 'workspaces: an oversized file is refused with FILE_TOO_LARGE and the old content stays',
    requires: needs(),
    async run({ adapter, context }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      await handle.write('workspace/notes.md', 'old');
      const big = new Uint8Array(context.limits.maxFileBytes + 1).fill(97);
      await rejectsWithCode(() => handle.write('workspace/notes.md', big), 'FILE_TOO_LARGE');
      await rejectsWithCode(() => handle.append('workspace/notes.md', big), 'FILE_TOO_LARGE');
      assert.equal(await text(handle, 'workspace/notes.md'), 'old');
      await handle.write('workspace/exact.bin', new Uint8Array(context.limits.maxFileBytes));
      assert.equal((await handle.read('workspace/exact.bin')).byteLength, context.limits.maxFileBytes);
      await handle.close();
    },
  },
  {
    name: 'workspaces: the per-tenant quota is enforced with QUOTA_EXCEEDED and nothing partial is kept',
    requires: needs(),
    async run({ adapter, context }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      const chunk = Math.floor(context.limits.maxFileBytes / 2);
      let written = 0;
      await assert.rejects(
        async () => {
          for (;;) {
            await handle.write(`workspace/fill-${written}.bin`, new Uint8Array(chunk));
            written++;
            assert.ok(written < 10_000, 'the quota never applied');
          }
        },
        (error: unknown) => (error as { code?: string }).code === 'QUOTA_EXCEEDED',
      );
      assert.ok((await handle.usage()) <= context.limits.maxWorkspaceBytes);
      await rejectsWithCode(() => handle.read(`workspace/fill-${written}.bin`), 'NOT_FOUND');
      await handle.remove('workspace/fill-0.bin');
      await handle.write(`workspace/fill-${written}.bin`, new Uint8Array(chunk));
      await handle.close();
    },
  },
  {
    name: 'workspaces: one tenant never sees another tenant’s files (isolation)',
    requires: needs(),
    async run({ adapter }) {
      const a = await workspaces(adapter).open(randomTenantId('a'));
      const b = await workspaces(adapter).open(randomTenantId('b'));
      await a.write('workspace/secret.md', 'a-only');
      await a.write('workspace/AGENTS.md', 'customised by a');
      await rejectsWithCode(() => b.read('workspace/secret.md'), 'NOT_FOUND');
      assert.ok(!(await b.list()).some((file) => file.name === 'workspace/secret.md'));
      assert.notEqual(await text(b, 'workspace/AGENTS.md'), 'customised by a');
      for (const name of [`../${a.tenantId}/workspace/secret.md`, `workspace/../../${a.tenantId}/workspace/secret.md`]) {
        await rejectsWithCode(() => b.read(name), 'PATH_INVALID');
      }
      await a.close();
      await b.close();
    },
  },
  {
    name: 'workspaces: concurrent writers on one tenant lose nothing and never tear a file',
    requires: needs(),
    async run({ adapter }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      const other = await workspaces(adapter).open(handle.tenantId);
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? handle : other).write(`workspace/memory/n${i}.md`, `note ${i}`)));
      for (let i = 0; i < 30; i++) assert.equal(await text(handle, `workspace/memory/n${i}.md`), `note ${i}`);
      const contents = Array.from({ length: 20 }, (_, i) => String(i).repeat(2_000 + i));
      await Promise.all(contents.map((content, i) => (i % 2 ? handle : other).write('workspace/shared.md', content)));
      assert.ok(contents.includes(await text(handle, 'workspace/shared.md')), 'the file holds exactly one of the writes');
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? handle : other).append('sessions/log.jsonl', `${i}\n`)));
      const lines = (await text(handle, 'sessions/log.jsonl'))
        .trim()
        .split('\n')
        .map(Number)
        .sort((x, y) => x - y);
      assert.deepEqual(
        lines,
        Array.from({ length: 40 }, (_, i) => i),
        'every append landed once',
      );
      await handle.close();
      await other.close();
    },
  },
  {
    name: 'workspaces: files survive closing and reopening the store',
    requires: needs(),
    async run({ adapter, reopen }) {
      const tenantId = randomTenantId();
      const handle = await workspaces(adapter).open(tenantId);
      await handle.write('workspace/USER.md', 'kept across restarts');
      await handle.close();
      await workspaces(adapter).close?.();
      const again = await reopen();
      const reopened = await again.workspaces!.open(tenantId);
      assert.equal(await text(reopened, 'workspace/USER.md'), 'kept across restarts');
      await reopened.close();
    },
  },
  {
    name: 'workspaces: template updates reach files the tenant never changed, and only those',
    requires: needs(),
    async run({ reopen }) {
      const tenantId = randomTenantId();
      const first = await reopen({ template: sampleTemplate('v1') });
      const handle = await first.workspaces!.open(tenantId);
      await handle.write('workspace/SOUL.md', 'my own soul');
      await handle.remove('workspace/skills/hello/SKILL.md');
      await handle.close();
      await first.workspaces!.close?.();
      const second = await reopen({ template: sampleTemplate('v2') });
      const updated = await second.workspaces!.open(tenantId);
      assert.equal(await text(updated, 'workspace/AGENTS.md'), '# Agents v2\n', 'an untouched file follows the template');
      assert.equal(await text(updated, 'workspace/SOUL.md'), 'my own soul', 'a customised file is kept');
      await rejectsWithCode(() => updated.read('workspace/skills/hello/SKILL.md'), 'NOT_FOUND');
      await updated.close();
    },
  },
  {
    name: 'workspaces: a closed handle refuses further calls with CLOSED',
    requires: needs(),
    async run({ adapter }) {
      const handle = await workspaces(adapter).open(randomTenantId());
      await handle.close();
      await handle.close();
      await rejectsWithCode(() => handle.read('workspace/AGENTS.md'), 'CLOSED');
      await rejectsWithCode(() => handle.write('workspace/AGENTS.md', 'x'), 'CLOSED');
    },
  },
  {
    name: 'workspaces: destroy deletes everything of one tenant and nothing of another',
    requires: needs(),
    async run({ adapter }) {
      const doomed = await workspaces(adapter).open(randomTenantId('doomed'));
      const kept = await workspaces(adapter).open(randomTenantId('kept'));
      await doomed.write('workspace/x.md', 'x');
      await kept.write('workspace/y.md', 'y');
      await doomed.close();
      assert.equal(await workspaces(adapter).destroy(doomed.tenantId), true);
      assert.equal(await workspaces(adapter).exists(doomed.tenantId), false);
      assert.equal(await workspaces(adapter).destroy(doomed.tenantId), false);
      assert.equal(await text(kept, 'workspace/y.md'), 'y');
      const fresh = await workspaces(adapter).open(doomed.tenantId);
      await rejectsWithCode(() => fresh.read('workspace/x.md'), 'NOT_FOUND');
      await fresh.close();
      await kept.close();
    },
  },
  {
    name: 'workspaces: tenants lists every tenant with a workspace',
    requires: needs('list'),
    async run({ adapter }) {
      const ids = [randomTenantId('L'), randomTenantId('list')];
      for (const id of ids) await (await workspaces(adapter).open(id)).close();
      const listed: string[] = [];
      for await (const id of workspaces(adapter).tenants!()) listed.push(id);
      for (const id of ids) assert.ok(listed.includes(id), `${id} is listed`);
    },
  },
];
