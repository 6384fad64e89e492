import { chmodSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFsAdapter, createFsConfigSource, createFsTokenStore, createFsWorkspaceStore } from '../src/index.js';
import { buildBundle } from './support/bundle.js';
import { finished, startWorker } from './support/child.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('perm');
let bundle: { path: string; cleanup(): void };

beforeAll(async () => {
  bundle = await buildBundle();
}, 60_000);

afterAll(() => {
  bundle?.cleanup();
  dirs.cleanup();
});

interface Entry {
  path: string;
  type: 'dir' | 'file' | 'other';
  mode: number;
}

describe('modes on disk whatever the umask', () => {
  // 000 would make everything world-writable, 077 is strict, 277 would even drop the owner's write bit.
  for (const umask of ['000', '077', '277']) {
    test(`under umask ${umask}, every directory is 0700 and every file 0600`, async () => {
      const dataDir = join(dirs.make(), 'data');
      const { entries } = (await finished(startWorker(bundle.path, 'umask', { dataDir, umask }))) as { entries: Entry[] };
      expect(entries.length).toBeGreaterThan(20);
      const types = new Set(entries.map((entry) => entry.type));
      expect(types).toEqual(new Set(['dir', 'file']));
      for (const entry of entries) {
        expect(entry.mode.toString(8), `${entry.type} ${entry.path}`).toBe(entry.type === 'dir' ? '700' : '600');
      }
      // It really touched every kind of file: token records, index, journal, configs, sequence, workspace files, manifest.
      const names = entries.map((entry) => entry.path.slice(dataDir.length));
      for (const expected of [
        '/tokens/journal.log',
        '/configs/umask-tenant.json',
        '/configs/.openclaw-mt/sequence',
        '/workspaces/umask-tenant/sessions/new.jsonl',
        '/workspaces/umask-tenant/.openclaw-mt/template.json',
      ]) {
        expect(names).toContain(expected);
      }
    }, 60_000);
  }
});

describe('store roots', () => {
  test('a missing root is created with 0700', () => {
    const base = dirs.make();
    const root = join(base, 'a', 'b', 'tokens');
    createFsTokenStore({ root });
    expect(lstatSync(root).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(base, 'a')).mode & 0o777).toBe(0o700);
  });

  test('a root that is a symlink, a file, or writable by group or others is refused with CONFIG_INVALID', () => {
    const base = dirs.make();
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(base, 'link'));
    writeFileSync(join(base, 'file'), 'x');
    mkdirSync(join(base, 'group'));
    chmodSync(join(base, 'group'), 0o770);
    mkdirSync(join(base, 'world'));
    chmodSync(join(base, 'world'), 0o707);
    for (const name of ['link', 'file', 'group', 'world']) {
      const root = join(base, name);
      for (const create of [
        () => createFsTokenStore({ root }),
        () => createFsConfigSource({ root }),
        () => createFsWorkspaceStore({ root }),
      ]) {
        expect(create, name).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      }
    }
    expect(() => createFsAdapter({ dataDir: join(base, 'world') })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('dataDir') }),
    );
  });

  test('a read-only-for-others root (0755) is accepted', () => {
    const root = join(dirs.make(), 'shared');
    mkdirSync(root, { mode: 0o755 });
    chmodSync(root, 0o755);
    expect(() => createFsConfigSource({ root })).not.toThrow();
  });

  test('createFsAdapter needs dataDir or every root, and a readable templatePath', () => {
    expect(() => createFsAdapter({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const base = dirs.make();
    expect(() => createFsAdapter({ tokenRoot: join(base, 't'), configRoot: join(base, 'c') })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('workspaceRoot') }),
    );
    expect(() => createFsAdapter({ dataDir: base, templatePath: join(base, 'missing') })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('templatePath') }),
    );
    const adapter = createFsAdapter({ dataDir: base });
    expect(adapter.tokens.root).toBe(join(base, 'tokens'));
    expect(adapter.configs.root).toBe(join(base, 'configs'));
    expect(adapter.workspaces.root).toBe(join(base, 'workspaces'));
  });
});
