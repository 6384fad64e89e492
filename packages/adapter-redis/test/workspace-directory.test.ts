import { mkdir, readFile, realpath, rm, stat, symlink, unlink, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { WORKSPACE_DIRECTORIES, defaultWorkspaceTemplate, tenantDirName } from '@openclaw-mt/core/contracts';
import { randomTenantId, rejectsWithCode, sampleTemplate } from '@openclaw-mt/core/testing';
import { createRedisWorkspaceStore, type RedisWorkspaceStore, type RedisWorkspaceStoreOptions } from '@openclaw-mt/adapter-redis';
import { Leftovers } from './support/fixture.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/redis-servers.js';

// The node-local working copy: layout, permissions, write-through, write-back of changes a child
// process makes in the directory, and symlink safety.
const leftovers = new Leftovers({ url: SHARED_REDIS_URL });
const stores: RedisWorkspaceStore[] = [];
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function node(prefix: string, options: Partial<RedisWorkspaceStoreOptions> = {}): Promise<RedisWorkspaceStore> {
  const store = createRedisWorkspaceStore({ url: SHARED_REDIS_URL, prefix, localDir: await leftovers.tempDir('node'), ...options });
  stores.push(store);
  return store;
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => leftovers.cleanup());

describe('the local working copy of an open workspace', () => {
  test('is materialised in the standard layout with 0700 dirs and 0600 files, whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      const localDir = await leftovers.tempDir('umask');
      const store = await node(leftovers.prefix(uniquePrefix('layout')), { localDir });
      const tenantId = randomTenantId('Layout');
      const handle = await store.open(tenantId);
      expect(handle.directory).toBe(join(await realpath(localDir), tenantDirName(tenantId)));
      const root = handle.directory!;
      expect(await mode(root)).toBe(0o700);
      for (const dir of WORKSPACE_DIRECTORIES) expect(await mode(join(root, dir)), dir).toBe(0o700);
      for (const [name, content] of defaultWorkspaceTemplate().files) {
        expect(await readFile(join(root, name), 'utf8')).toBe(text(content));
        expect(await mode(join(root, name)), name).toBe(0o600);
      }
      await handle.write('workspace/memory/deep/new.md', 'x');
      expect(await mode(join(root, 'workspace/memory/deep'))).toBe(0o700);
      expect(await mode(join(root, 'workspace/memory/deep/new.md'))).toBe(0o600);
      await handle.append('sessions/main.jsonl', '{}\n');
      expect(await mode(join(root, 'sessions/main.jsonl'))).toBe(0o600);
      await handle.close();
    } finally {
      process.umask(previous);
    }
  });

  test('handle writes reach the directory and Redis; another node sees them', async () => {
    const prefix = leftovers.prefix(uniquePrefix('through'));
    const [a, b] = [await node(prefix), await node(prefix)];
    const tenantId = randomTenantId();
    const handle = await a.open(tenantId);
    await handle.write('workspace/USER.md', 'likes tea');
    await handle.append('sessions/main.jsonl', 'one\n');
    await handle.append('sessions/main.jsonl', 'two\n');
    expect(await readFile(join(handle.directory!, 'workspace/USER.md'), 'utf8')).toBe('likes tea');
    expect(await readFile(join(handle.directory!, 'sessions/main.jsonl'), 'utf8')).toBe('one\ntwo\n');
    await handle.close();
    const other = await b.open(tenantId);
    expect(text(await other.read('workspace/USER.md'))).toBe('likes tea');
    expect(text(await other.read('sessions/main.jsonl'))).toBe('one\ntwo\n');
    await other.close();
  });

  test('changes made in the directory are written back on flush; hidden files and symlinks stay local', async () => {
    const prefix = leftovers.prefix(uniquePrefix('writeback'));
    const [a, b] = [await node(prefix), await node(prefix)];
    const tenantId = randomTenantId();
    const handle = await a.open(tenantId);
    const root = handle.directory!;
    // What a child process (OpenClaw) does in its workspace.
    await writeFile(join(root, 'workspace/memory/2026-11-27.md'), 'remembered');
    await writeFile(join(root, 'workspace/SOUL.md'), 'a new soul');
    await unlink(join(root, 'workspace/TOOLS.md'));
    await mkdir(join(root, 'agent/main'), { recursive: true });
    await writeFile(join(root, 'agent/main/state.json'), '{"ok":true}');
    await writeFile(join(root, 'workspace/.secret'), 'never leaves the node');
    await symlink('/etc/hostname', join(root, 'workspace/link.md'));

    const files = await handle.list();
    const listed = files.map((file) => file.name);
    expect(listed).toContain('workspace/memory/2026-11-27.md');
    expect(listed).toContain('agent/main/state.json');
    expect(listed).not.toContain('workspace/TOOLS.md');
    expect(listed.some((name) => name.includes('secret') || name.includes('link'))).toBe(false);
    expect(text(await handle.read('workspace/SOUL.md'))).toBe('a new soul');
    expect(await handle.usage()).toBe(files.reduce((sum, file) => sum + file.size, 0));
    await handle.flush();

    // Another node sees exactly what was written back, while the first still has it open.
    const other = await b.open(tenantId);
    expect(text(await other.read('workspace/memory/2026-11-27.md'))).toBe('remembered');
    expect(text(await other.read('workspace/SOUL.md'))).toBe('a new soul');
    expect(text(await other.read('agent/main/state.json'))).toBe('{"ok":true}');
    await rejectsWithCode(() => other.read('workspace/TOOLS.md'), 'NOT_FOUND');
    expect(await readdir(join(other.directory!, 'workspace'))).not.toContain('.secret');
    await other.close();
    await handle.close();
  });

  test('close writes back and removes the local copy; an append follows a local edit', async () => {
    const prefix = leftovers.prefix(uniquePrefix('close'));
    const [a, b] = [await node(prefix), await node(prefix)];
    const tenantId = randomTenantId();
    const handle = await a.open(tenantId);
    const root = handle.directory!;
    await writeFile(join(root, 'sessions/log.jsonl'), 'written by the child\n');
    await handle.append('sessions/log.jsonl', 'appended by the host\n');
    await writeFile(join(root, 'workspace/HEARTBEAT.md'), 'check mail');
    await handle.close();
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
    await rejectsWithCode(() => handle.read('workspace/HEARTBEAT.md'), 'CLOSED');
    const other = await b.open(tenantId);
    expect(text(await other.read('sessions/log.jsonl'))).toBe('written by the child\nappended by the host\n');
    expect(text(await other.read('workspace/HEARTBEAT.md'))).toBe('check mail');
    await other.close();
  });

  test('a handle write or remove supersedes what a child changed in that file, and a later flush brings none of it back', async () => {
    // Why write and remove need no per-file write-back first (append has one): they replace the file
    // on both copies in one fenced step, and re-stamp it, so the child's edit is simply overtaken.
    const prefix = leftovers.prefix(uniquePrefix('supersede'));
    const [a, b] = [await node(prefix), await node(prefix)];
    const tenantId = randomTenantId();
    const handle = await a.open(tenantId);
    const root = handle.directory!;
    await writeFile(join(root, 'workspace/USER.md'), 'edited by the child');
    await writeFile(join(root, 'workspace/notes.md'), 'created by the child');
    await handle.write('workspace/USER.md', 'written by the host');
    expect(await handle.remove('workspace/notes.md')).toBe(true);
    await handle.flush();
    expect(await readFile(join(root, 'workspace/USER.md'), 'utf8')).toBe('written by the host');
    const other = await b.open(tenantId);
    expect(text(await other.read('workspace/USER.md'))).toBe('written by the host');
    await rejectsWithCode(() => other.read('workspace/notes.md'), 'NOT_FOUND');
    await other.close();
    await handle.close();
  });

  test('a write-back that breaks the size caps is refused and leaves Redis unchanged', async () => {
    const prefix = leftovers.prefix(uniquePrefix('caps'));
    const limits = { maxFileBytes: 1_024, maxWorkspaceBytes: 8 * 1_024 };
    const [a, b] = [await node(prefix, { limits }), await node(prefix, { limits })];
    const tenantId = randomTenantId();
    const handle = await a.open(tenantId);
    await writeFile(join(handle.directory!, 'workspace/big.bin'), Buffer.alloc(2_048));
    await rejectsWithCode(() => handle.flush(), 'FILE_TOO_LARGE');
    await rm(join(handle.directory!, 'workspace/big.bin'));
    for (let i = 0; i < 10; i++) await writeFile(join(handle.directory!, `workspace/part-${i}.bin`), Buffer.alloc(1_000));
    await rejectsWithCode(() => handle.flush(), 'QUOTA_EXCEEDED');
    await rejectsWithCode(() => handle.close(), 'QUOTA_EXCEEDED');
    const other = await b.open(tenantId);
    expect((await other.list('workspace')).some((file) => file.name.startsWith('workspace/part-'))).toBe(false);
    await other.close();
  });

  test('a symlink planted in place of a directory is never followed', async () => {
    const prefix = leftovers.prefix(uniquePrefix('symlink'));
    const store = await node(prefix);
    const outside = await leftovers.tempDir('outside');
    const handle = await store.open(randomTenantId());
    const root = handle.directory!;
    await rm(join(root, 'workspace/memory'), { recursive: true });
    await symlink(outside, join(root, 'workspace/memory'));
    await rejectsWithCode(() => handle.write('workspace/memory/x.md', 'escape'), 'PATH_ESCAPE');
    await rejectsWithCode(() => handle.append('workspace/memory/x.md', 'escape'), 'PATH_ESCAPE');
    await writeFile(join(outside, 'y.md'), 'outside');
    await rejectsWithCode(() => handle.read('workspace/memory/y.md'), 'PATH_ESCAPE');
    expect(await readdir(outside)).toEqual(['y.md']);
    await rejectsWithCode(() => handle.read('workspace/memory/x.md'), 'PATH_ESCAPE');
    await symlink(join(outside, 'y.md'), join(root, 'workspace/file-link.md'));
    await rejectsWithCode(() => handle.read('workspace/file-link.md'), 'PATH_ESCAPE');
    await handle.close();
  });

  test('a name colliding with a directory (or a file with a parent) is refused before anything is written', async () => {
    const store = await node(leftovers.prefix(uniquePrefix('collide')));
    const handle = await store.open(randomTenantId());
    await rejectsWithCode(() => handle.write('workspace/memory', 'x'), 'PATH_INVALID');
    await handle.write('workspace/plain.md', 'x');
    await rejectsWithCode(() => handle.write('workspace/plain.md/child.md', 'y'), 'PATH_INVALID');
    await rejectsWithCode(() => handle.append('workspace/plain.md/child.md', 'y'), 'PATH_INVALID');
    const names = (await handle.list()).map((file) => file.name);
    expect(names).toContain('workspace/plain.md');
    expect(names.filter((name) => name === 'workspace/memory' || name.startsWith('workspace/plain.md/'))).toEqual([]);
    await handle.close();
  });

  test('nodes opening one tenant at once apply a template update once and keep tenant edits', async () => {
    const prefix = leftovers.prefix(uniquePrefix('template'));
    const tenantId = randomTenantId();
    const first = await node(prefix, { template: sampleTemplate('v1') });
    const handle = await first.open(tenantId);
    await handle.write('workspace/SOUL.md', 'edited by the tenant');
    await handle.close();
    const nodes = await Promise.all(Array.from({ length: 4 }, () => node(prefix, { template: sampleTemplate('v2') })));
    const handles = await Promise.all(nodes.map((store) => store.open(tenantId)));
    for (const opened of handles) {
      expect(text(await opened.read('workspace/AGENTS.md'))).toBe('# Agents v2\n');
      expect(text(await opened.read('workspace/SOUL.md'))).toBe('edited by the tenant');
    }
    const files = await handles[0]!.list();
    expect(await handles[0]!.usage()).toBe(files.reduce((sum, file) => sum + file.size, 0));
    for (const opened of handles) await opened.close();
  });

  test('destroy removes both copies; open handles then fail with NOT_FOUND', async () => {
    const prefix = leftovers.prefix(uniquePrefix('destroy'));
    const store = await node(prefix);
    const tenantId = randomTenantId();
    const handle = await store.open(tenantId);
    const root = handle.directory!;
    expect(await store.destroy(tenantId)).toBe(true);
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
    await rejectsWithCode(() => handle.write('workspace/x.md', 'x'), 'NOT_FOUND');
    await handle.close();
    expect(await store.exists(tenantId)).toBe(false);
    const found: string[] = [];
    for await (const key of leftovers.connection.scan(`${prefix}:*`)) found.push(key);
    expect(found).toEqual([]);
  });
});
