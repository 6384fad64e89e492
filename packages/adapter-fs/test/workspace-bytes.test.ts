import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { hasGnuTool } from '@openclaw-mt/core/helpers';
import { listTree } from '../src/workspace-tree.js';
import { workspaceBytesByFind } from '../src/workspace-usage.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('workspace-bytes');
afterAll(() => dirs.cleanup());

// Segments a name may hold and ones it may not (hidden, spaces, non-ASCII, `%`), and the store's temp files.
const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'notes', 'x.md', 'node_modules', 'v1.2', 'A-Z_+@='),
  fc.constantFrom('.git', '.hidden', 'with space', 'caf\u00e9', '100%', '-dash'),
);
const DEAD_PID = 2_147_483_646;
const entry = fc.record({
  path: fc.array(segment, { minLength: 1, maxLength: 18 }),
  kind: fc.constantFrom('file', 'file', 'dir', 'symlink', 'temp'),
  size: fc.nat(5_000),
});

/** Builds the same tree under two roots; returns both. */
async function build(entries: Array<{ path: string[]; kind: string; size: number }>): Promise<[string, string]> {
  const roots: [string, string] = [dirs.make(), dirs.make()];
  for (const root of roots) {
    for (const [index, { path, kind, size }] of entries.entries()) {
      const target = join(root, ...path);
      const parent = join(target, '..');
      try {
        await mkdir(parent, { recursive: true });
        if (kind === 'dir') await mkdir(target, { recursive: true });
        else if (kind === 'symlink') await symlink('/etc', target);
        else if (kind === 'temp')
          await writeFile(join(parent, `.ocmt-${DEAD_PID}-${index.toString(16).padStart(12, '0')}.tmp`), 'x', { flag: 'wx' });
        else await writeFile(target, Buffer.alloc(size, 1), { flag: 'wx' });
      } catch {
        // A file where a directory was asked for, or the name is taken: as a tree would have it.
      }
    }
  }
  return roots;
}

async function everything(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      out.push(relative(root, join(dir, entry.name)));
      if (entry.isDirectory()) await visit(join(dir, entry.name));
    }
  }
  await visit(root);
  return out.sort();
}

test('find counts the bytes the walk in Node counts and sweeps the same temp files, for any tree', async () => {
  expect(await hasGnuTool('find')).toBe(true);
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { maxLength: 30 }), async (entries) => {
      const [byFind, byWalk] = await build(entries);
      const walked = (await listTree(byWalk, '', { sweep: true })).reduce((sum, file) => sum + file.size, 0);
      expect(await workspaceBytesByFind(byFind, { sweep: true })).toBe(walked);
      expect(await everything(byFind)).toEqual(await everything(byWalk));
    }),
    {
      numRuns: 60,
      // The deepest names, and a temp file in the deepest directory a name reaches.
      examples: [
        [
          [
            { path: Array(17).fill('a'), kind: 'temp', size: 0 },
            { path: [...Array(16).fill('a'), 'deep.md'], kind: 'file', size: 10 },
          ],
        ],
      ],
    },
  );
});

test('leaves a missing workspace to the walk', async () => {
  expect(await workspaceBytesByFind(join(dirs.make(), 'missing'))).toBeUndefined();
});
