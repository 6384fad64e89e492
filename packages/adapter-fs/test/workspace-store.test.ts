import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { WORKSPACE_DIRECTORIES, WORKSPACE_FILES, createWorkspaceTemplate, defaultWorkspaceTemplate } from '@openclaw-mt/core/contracts';
import { rejectsWithCode } from '@openclaw-mt/core/testing';
import { createFsWorkspaceStore } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('workspace');
afterAll(() => dirs.cleanup());
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

describe('layout', () => {
  test('a new workspace is a plain OpenClaw directory built from the default template', async () => {
    const store = createFsWorkspaceStore({ root: dirs.make() });
    expect(store.capabilities.localDirectory).toBe(true);
    const handle = await store.open('Alice_1');
    expect(handle.directory).toBe(join(store.root, '_alice__1'));
    for (const dir of WORKSPACE_DIRECTORIES) expect(statSync(join(handle.directory!, dir)).isDirectory()).toBe(true);
    const defaults = defaultWorkspaceTemplate();
    for (const file of WORKSPACE_FILES) {
      expect(readFileSync(join(handle.directory!, 'workspace', file))).toEqual(Buffer.from(defaults.files.get(`workspace/${file}`)!));
    }
    // The manifest lives in a hidden directory no file name can reach, and is never listed.
    expect(existsSync(join(handle.directory!, '.openclaw-mt', 'template.json'))).toBe(true);
    expect((await handle.list()).every((file) => !file.name.includes('openclaw-mt'))).toBe(true);
    const listed: string[] = [];
    for await (const id of store.tenants()) listed.push(id);
    expect(listed).toEqual(['Alice_1']);
  });

  test('an operator template directory overrides the defaults and its updates reach only untouched files', async () => {
    const base = dirs.make();
    const templatePath = join(base, 'template');
    mkdirSync(join(templatePath, 'skills', 'hello'), { recursive: true });
    writeFileSync(join(templatePath, 'AGENTS.md'), 'agents v1');
    writeFileSync(join(templatePath, 'SOUL.md'), 'soul v1');
    writeFileSync(join(templatePath, 'skills', 'hello', 'SKILL.md'), 'skill v1');
    const root = join(base, 'workspaces');
    const first = createFsWorkspaceStore({ root, templatePath });
    const handle = await first.open('bob');
    expect(text(await handle.read('workspace/AGENTS.md'))).toBe('agents v1');
    expect(text(await handle.read('workspace/skills/hello/SKILL.md'))).toBe('skill v1');
    expect(text(await handle.read('workspace/USER.md'))).toContain('# USER.md');
    await handle.write('workspace/SOUL.md', 'my soul');
    await first.close();

    writeFileSync(join(templatePath, 'AGENTS.md'), 'agents v2');
    writeFileSync(join(templatePath, 'SOUL.md'), 'soul v2');
    writeFileSync(join(templatePath, 'skills', 'hello', 'SKILL.md'), 'skill v2');
    const second = createFsWorkspaceStore({ root, templatePath });
    const again = await second.open('bob');
    expect(text(await again.read('workspace/AGENTS.md'))).toBe('agents v2');
    expect(text(await again.read('workspace/skills/hello/SKILL.md'))).toBe('skill v2');
    expect(text(await again.read('workspace/SOUL.md'))).toBe('my soul');
  });

  test('files OpenClaw writes straight into the directory are seen through the handle', async () => {
    const store = createFsWorkspaceStore({ root: dirs.make() });
    const handle = await store.open('carol');
    writeFileSync(join(handle.directory!, 'sessions', 'from-openclaw.jsonl'), '{"n":1}\n');
    expect(text(await handle.read('sessions/from-openclaw.jsonl'))).toBe('{"n":1}\n');
    expect((await handle.list('sessions')).map((file) => file.name)).toEqual(['sessions/from-openclaw.jsonl']);
  });
});

describe('temp files', () => {
  test('temp files are never listed; abandoned ones are removed when the workspace is opened, live ones are kept', async () => {
    const root = dirs.make();
    const store = createFsWorkspaceStore({ root });
    const handle = await store.open('dave');
    const memory = join(handle.directory!, 'workspace', 'memory');
    // 2^22 + 1 is above the largest pid Linux can assign, so its writer is certainly dead; our parent is alive.
    const dead = join(memory, `.ocmt-${4_194_305}-000000000001.tmp`);
    const live = join(memory, `.ocmt-${process.ppid}-000000000002.tmp`);
    const ancient = join(memory, `.ocmt-${process.ppid}-000000000003.tmp`);
    const foreign = join(memory, '.not-ours.tmp');
    for (const path of [dead, live, ancient, foreign]) writeFileSync(path, 'partial');
    utimesSync(ancient, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    expect((await handle.list()).some((file) => file.name.includes('tmp'))).toBe(false);
    const before = await handle.usage();
    await store.open('dave');
    expect(readdirSync(memory).sort()).toEqual([foreign, live].map((path) => path.slice(memory.length + 1)).sort());
    expect(await handle.usage()).toBe(before);
  });

  test("a new store sweeps staging directories of dead seeders but never another live process's", async () => {
    const root = dirs.make();
    createFsWorkspaceStore({ root });
    const dead = `.seed-${4_194_305}-0000000000000001`;
    const live = `.seed-${process.ppid}-0000000000000002`;
    const ancient = `.seed-${process.ppid}-0000000000000003`;
    const trash = '.trash-0000000000000004';
    for (const name of [dead, live, ancient, trash]) mkdirSync(join(root, name, 'workspace'), { recursive: true });
    utimesSync(join(root, ancient), new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    const store = createFsWorkspaceStore({ root });
    expect(readdirSync(root).filter((name) => name.startsWith('.'))).toEqual([live]);
    // A staging directory is never a tenant.
    const listed: string[] = [];
    for await (const id of store.tenants()) listed.push(id);
    expect(listed).toEqual([]);
  });

  test('a successful write leaves no temp file behind', async () => {
    const store = createFsWorkspaceStore({ root: dirs.make() });
    const handle = await store.open('erin');
    await Promise.all(Array.from({ length: 20 }, (_, i) => handle.write(`workspace/n${i % 3}.md`, `v${i}`)));
    expect(readdirSync(join(handle.directory!, 'workspace')).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

describe('limits and lifecycle', () => {
  test('files that grew beyond the limit outside the store are refused for reading with FILE_TOO_LARGE', async () => {
    const store = createFsWorkspaceStore({ root: dirs.make(), limits: { maxFileBytes: 1024, maxWorkspaceBytes: 64 * 1024 } });
    const handle = await store.open('frank');
    writeFileSync(join(handle.directory!, 'sessions', 'huge.jsonl'), Buffer.alloc(2048));
    await rejectsWithCode(() => handle.read('sessions/huge.jsonl'), 'FILE_TOO_LARGE');
    await rejectsWithCode(() => handle.append('sessions/huge.jsonl', 'x'), 'FILE_TOO_LARGE');
  });

  test('append counts toward both limits and a refused append changes nothing', async () => {
    const template = createWorkspaceTemplate(new Map([['workspace/AGENTS.md', new TextEncoder().encode('a')]]));
    const store = createFsWorkspaceStore({ root: dirs.make(), template, limits: { maxFileBytes: 4096, maxWorkspaceBytes: 5000 } });
    const handle = await store.open('gina');
    expect(await handle.usage()).toBe(1);
    await handle.append('sessions/a.jsonl', 'x'.repeat(4000));
    await rejectsWithCode(() => handle.append('sessions/a.jsonl', 'y'.repeat(200)), 'FILE_TOO_LARGE');
    await rejectsWithCode(() => handle.append('sessions/b.jsonl', 'z'.repeat(1000)), 'QUOTA_EXCEEDED');
    expect(text(await handle.read('sessions/a.jsonl'))).toBe('x'.repeat(4000));
    await rejectsWithCode(() => handle.read('sessions/b.jsonl'), 'NOT_FOUND');
    expect(await handle.usage()).toBe(4001);
  });

  test('a handle on a destroyed workspace fails with NOT_FOUND and never writes into a recreated one', async () => {
    const store = createFsWorkspaceStore({ root: dirs.make() });
    const old = await store.open('hana');
    await old.write('workspace/x.md', 'x');
    expect(await store.destroy('hana')).toBe(true);
    expect(await store.exists('hana')).toBe(false);
    await rejectsWithCode(() => old.write('workspace/y.md', 'y'), 'NOT_FOUND');
    const fresh = await store.open('hana');
    await rejectsWithCode(() => old.write('workspace/y.md', 'y'), 'NOT_FOUND');
    await rejectsWithCode(() => fresh.read('workspace/y.md'), 'NOT_FOUND');
    await rejectsWithCode(() => fresh.read('workspace/x.md'), 'NOT_FOUND');
    expect(readdirSync(store.root).filter((name) => name.startsWith('.trash-'))).toEqual([]);
  });

  test('a closed store refuses to open workspaces', async () => {
    const store = createFsWorkspaceStore({ root: dirs.make() });
    await store.close();
    await rejectsWithCode(() => store.open('ivy'), 'CLOSED');
  });

  test('two stores in one process appending to one file lose nothing', async () => {
    const root = dirs.make();
    const handles = await Promise.all([createFsWorkspaceStore({ root }).open('jo'), createFsWorkspaceStore({ root }).open('jo')]);
    await Promise.all(Array.from({ length: 200 }, (_, i) => handles[i % 2]!.append('sessions/log.jsonl', `${i}\n`)));
    const lines = text(await handles[0]!.read('sessions/log.jsonl'))
      .trim()
      .split('\n')
      .map(Number)
      .sort((a, b) => a - b);
    expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
