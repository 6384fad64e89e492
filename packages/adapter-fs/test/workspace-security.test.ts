import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isValidTenantId, isValidWorkspacePath, tenantDirName } from '@openclaw-mt/core/contracts';
import type { WorkspaceHandle } from '@openclaw-mt/core';
import { HOSTILE_NAMES, rejectsWithCode } from '@openclaw-mt/core/testing';
import { createFsWorkspaceStore, type FsWorkspaceStore } from '../src/index.js';
import { snapshotTree } from './support/tree.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('security');
afterAll(() => dirs.cleanup());

let base: string;
let store: FsWorkspaceStore;
let alice: WorkspaceHandle;
let bob: WorkspaceHandle;
let outside: string;

beforeEach(async () => {
  base = dirs.make();
  outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'outside secret');
  store = createFsWorkspaceStore({ root: join(base, 'workspaces') });
  alice = await store.open('alice');
  bob = await store.open('bob');
  await bob.write('workspace/secret.md', 'bob only');
});

afterEach(async () => {
  await store.close();
});

/** Every way a handle can touch `name`, each expected to fail with `code`. */
async function refusedEverywhere(handle: WorkspaceHandle, name: string, code: 'PATH_ESCAPE' | 'PATH_INVALID'): Promise<void> {
  await rejectsWithCode(() => handle.read(name), code, `read(${name})`);
  await rejectsWithCode(() => handle.write(name, 'planted'), code, `write(${name})`);
  await rejectsWithCode(() => handle.append(name, 'planted'), code, `append(${name})`);
  await rejectsWithCode(() => handle.remove(name), code, `remove(${name})`);
}

describe('symlinks planted inside a tenant root', () => {
  test('a file symlink pointing outside is refused with PATH_ESCAPE and its target is untouched', async () => {
    symlinkSync(join(outside, 'secret.txt'), join(alice.directory!, 'workspace', 'evil.md'));
    const before = snapshotTree(outside);
    await refusedEverywhere(alice, 'workspace/evil.md', 'PATH_ESCAPE');
    await rejectsWithCode(() => alice.list('workspace/evil.md'), 'PATH_ESCAPE');
    expect((await alice.list()).map((file) => file.name)).not.toContain('workspace/evil.md');
    expect(snapshotTree(outside)).toEqual(before);
    expect(lstatSync(join(alice.directory!, 'workspace', 'evil.md')).isSymbolicLink()).toBe(true);
  });

  test('a file symlink to another tenant’s file is refused and that file is untouched', async () => {
    rmSync(join(alice.directory!, 'workspace', 'USER.md'));
    symlinkSync(join(bob.directory!, 'workspace', 'secret.md'), join(alice.directory!, 'workspace', 'USER.md'));
    const before = snapshotTree(bob.directory!);
    await refusedEverywhere(alice, 'workspace/USER.md', 'PATH_ESCAPE');
    expect(snapshotTree(bob.directory!)).toEqual(before);
    expect(new TextDecoder().decode(await bob.read('workspace/secret.md'))).toBe('bob only');
  });

  test('a directory symlink to another tenant’s root is refused for every operation beneath it', async () => {
    const memory = join(alice.directory!, 'workspace', 'memory');
    rmSync(memory, { recursive: true });
    symlinkSync(join(bob.directory!, 'workspace'), memory);
    const before = snapshotTree(bob.directory!);
    for (const name of ['workspace/memory/secret.md', 'workspace/memory/new.md', 'workspace/memory/deeper/new.md']) {
      await refusedEverywhere(alice, name, 'PATH_ESCAPE');
    }
    await rejectsWithCode(() => alice.list('workspace/memory'), 'PATH_ESCAPE');
    await rejectsWithCode(() => alice.list('workspace/memory/secret.md'), 'PATH_ESCAPE');
    expect((await alice.list()).some((file) => file.name.startsWith('workspace/memory/'))).toBe(false);
    expect(snapshotTree(bob.directory!)).toEqual(before);
  });

  test('a relative symlink climbing out of the root (sessions -> ../../outside) is refused', async () => {
    const sessions = join(alice.directory!, 'sessions');
    rmSync(sessions, { recursive: true });
    symlinkSync(relative(dirname(sessions), outside), sessions);
    const before = snapshotTree(outside);
    await refusedEverywhere(alice, 'sessions/main.jsonl', 'PATH_ESCAPE');
    expect(snapshotTree(outside)).toEqual(before);
  });

  test('a tenant root replaced by a symlink to another tenant’s root is refused and the other tenant is untouched', async () => {
    const root = alice.directory!;
    rmSync(root, { recursive: true });
    symlinkSync(bob.directory!, root);
    const before = snapshotTree(bob.directory!);
    await rejectsWithCode(() => store.open('alice'), 'PATH_ESCAPE');
    // The old handle no longer finds the directory it opened.
    await rejectsWithCode(() => alice.write('workspace/secret.md', 'overwrite'), 'NOT_FOUND');
    await rejectsWithCode(() => alice.read('workspace/secret.md'), 'NOT_FOUND');
    expect(snapshotTree(bob.directory!)).toEqual(before);
  });

  test('a hard link to a file outside is neither read nor appended to', async () => {
    linkSync(join(outside, 'secret.txt'), join(alice.directory!, 'workspace', 'linked.md'));
    const before = readFileSync(join(outside, 'secret.txt'), 'utf8');
    await rejectsWithCode(() => alice.read('workspace/linked.md'), 'PATH_ESCAPE');
    await rejectsWithCode(() => alice.append('workspace/linked.md', 'more'), 'PATH_ESCAPE');
    // An atomic write replaces the name, never the linked file.
    await alice.write('workspace/linked.md', 'replaced');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe(before);
    expect(new TextDecoder().decode(await alice.read('workspace/linked.md'))).toBe('replaced');
  });

  test('a FIFO is refused without blocking', async () => {
    execFileSync('mkfifo', [join(alice.directory!, 'workspace', 'pipe.md')]);
    await rejectsWithCode(() => alice.read('workspace/pipe.md'), 'PATH_INVALID');
    await rejectsWithCode(() => alice.write('workspace/pipe.md', 'x'), 'PATH_INVALID');
    await rejectsWithCode(() => alice.append('workspace/pipe.md', 'x'), 'PATH_INVALID');
    expect((await alice.list()).map((file) => file.name)).not.toContain('workspace/pipe.md');
  });

  test('destroy removes planted symlinks, not their targets', async () => {
    symlinkSync(outside, join(alice.directory!, 'workspace', 'outside-dir'));
    symlinkSync(bob.directory!, join(alice.directory!, 'agent', 'bob'));
    const outsideBefore = snapshotTree(outside);
    const bobBefore = snapshotTree(bob.directory!);
    expect(await store.destroy('alice')).toBe(true);
    expect(snapshotTree(outside)).toEqual(outsideBefore);
    expect(snapshotTree(bob.directory!)).toEqual(bobBefore);
  });
});

describe('hostile names', () => {
  const extra = [
    '..\\..\\x',
    'workspace/..',
    'workspace/...',
    '%2e%2e%2f',
    'a\u0000',
    '\u202eevil',
    'workspace/\u0000/x',
    'workspace/AGENTS.md/',
    ' /x',
    'workspace/.openclaw-mt',
    '.openclaw-mt/template.json',
    'workspace/.ocmt-1-000000000000.tmp',
  ];

  test('traversal, absolute, encoded and NUL-containing names are refused with PATH_INVALID and touch nothing', async () => {
    const before = snapshotTree(base);
    for (const name of [...HOSTILE_NAMES, ...extra]) {
      await refusedEverywhere(alice, name, 'PATH_INVALID');
      if (name !== '') await rejectsWithCode(() => alice.list(name), 'PATH_INVALID', `list(${JSON.stringify(name)})`);
    }
    expect(snapshotTree(base)).toEqual(before);
  });

  test('hostile tenant ids are refused with TENANT_ID_INVALID and touch nothing', async () => {
    const before = snapshotTree(base);
    for (const id of ['', '..', '../bob', 'bob/../alice', '.hidden', 'a\0b', 'Ａlice', 'bob.', 'x'.repeat(101), '/etc', 'C:\\x']) {
      await rejectsWithCode(() => store.open(id), 'TENANT_ID_INVALID', `open(${JSON.stringify(id)})`);
      await rejectsWithCode(() => store.exists(id), 'TENANT_ID_INVALID', `exists(${JSON.stringify(id)})`);
      await rejectsWithCode(() => store.destroy(id), 'TENANT_ID_INVALID', `destroy(${JSON.stringify(id)})`);
    }
    expect(snapshotTree(base)).toEqual(before);
  });
});

describe('properties', () => {
  const segment = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('..', '.', '', '%2e%2e', '\0', '\\', 'C:', '.x', '~', 'workspace', 'memory', '\u2025', '\uff0e'),
    fc.stringMatching(/^[A-Za-z0-9._+@=-]{1,10}$/),
  );

  test('a name is either refused with PATH_INVALID, changing nothing, or lands exactly at <tenant root>/<name>', async () => {
    const root = alice.directory!;
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 5 }), async (parts) => {
        const name = parts.join('/');
        if (!isValidWorkspacePath(name)) {
          const before = snapshotTree(base);
          await rejectsWithCode(() => alice.write(name, 'x'), 'PATH_INVALID');
          expect(snapshotTree(base)).toEqual(before);
          return;
        }
        try {
          await alice.write(name, `content of ${name}`);
        } catch (error) {
          // A valid name can still collide with an existing file used as a directory (or vice versa).
          expect((error as { code?: string }).code).toBe('PATH_INVALID');
          return;
        }
        const target = join(root, ...name.split('/'));
        expect(target.startsWith(root + sep)).toBe(true);
        expect(statSync(target).isFile()).toBe(true);
        expect(readFileSync(target, 'utf8')).toBe(`content of ${name}`);
        expect((await alice.list()).map((file) => file.name)).toContain(name);
      }),
      { numRuns: 150 },
    );
  });

  test('a tenant id is either refused with TENANT_ID_INVALID or gets its own directory directly under the root', async () => {
    const seen = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/)), async (id) => {
        if (!isValidTenantId(id)) {
          await rejectsWithCode(() => store.open(id), 'TENANT_ID_INVALID');
          return;
        }
        const handle = await store.open(id);
        expect(handle.directory).toBe(join(store.root, tenantDirName(id)));
        expect(dirname(handle.directory!)).toBe(store.root);
        // Injective even on a case-insensitive filesystem: no two ids share a directory name up to case.
        const key = tenantDirName(id).toLowerCase();
        expect(seen.get(key) ?? id).toBe(id);
        seen.set(key, id);
        await handle.close();
      }),
      { numRuns: 80 },
    );
  });
});

test('renaming a directory of the tree away under an open handle does not redirect writes outside', async () => {
  // Move alice's workspace dir out and put a symlink to the outside in its place (a swap between calls).
  const workspace = join(alice.directory!, 'workspace');
  renameSync(workspace, join(base, 'moved'));
  symlinkSync(outside, workspace);
  const before = snapshotTree(outside);
  await rejectsWithCode(() => alice.write('workspace/notes.md', 'x'), 'PATH_ESCAPE');
  expect(snapshotTree(outside)).toEqual(before);
});
