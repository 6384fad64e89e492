import { chmod, chown, link, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duTreeUsage, walkTreeDiskUsage } from '../src/os/disk-usage.js';
import { hasGnuTool } from '@openclaw-mt/core/helpers';
import { foreignEntriesByFind, foreignEntriesByWalk, handTreeTo } from '../src/os/tenant-ownership.js';

const asRoot = process.platform === 'linux' && process.getuid?.() === 0;
// `nobody` on Debian; any uid other than root's serves.
const tenant = { name: 'nobody', uid: 65_534, gid: 65_534 };

/** One step of building a tree: `at` picks a directory made so far (modulo their count). */
type Step =
  | { kind: 'dir'; at: number; name: string }
  | { kind: 'file'; at: number; name: string; size: number }
  | { kind: 'symlink'; at: number; name: string }
  | { kind: 'hardlink'; at: number; name: string; of: number }
  | { kind: 'owner'; of: number; uid: 'root' | 'tenant'; gid: 'root' | 'tenant' };

// Names with what a parser could trip on: spaces, tabs, newlines, glob characters, a leading dash.
const name = fc.stringMatching(/^[a-z0-9 \t\n*?[\]\\.-]{1,12}$/).filter((value) => value !== '.' && value !== '..');
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('dir' as const), at: fc.nat(), name }),
  fc.record({ kind: fc.constant('file' as const), at: fc.nat(), name, size: fc.integer({ min: 0, max: 40_000 }) }),
  fc.record({ kind: fc.constant('symlink' as const), at: fc.nat(), name }),
  fc.record({ kind: fc.constant('hardlink' as const), at: fc.nat(), name, of: fc.nat() }),
  fc.record({
    kind: fc.constant('owner' as const),
    of: fc.nat(),
    uid: fc.constantFrom('root' as const, 'tenant' as const),
    gid: fc.constantFrom('root' as const, 'tenant' as const),
  }),
);

let scratch: string;
let outside: string;
let serial = 0;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ocmt-walks-'));
  outside = join(scratch, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'big.bin'), Buffer.alloc(256 * 1024, 1));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Builds a tree from `steps` in a new directory; returns it with its directories and files (absolute). */
async function build(steps: readonly Step[]): Promise<{ root: string; dirs: string[]; files: string[] }> {
  const root = join(scratch, `t${++serial}`);
  await mkdir(root);
  const dirs = [root];
  const files: string[] = [];
  const all = [root];
  for (const next of steps) {
    if (next.kind === 'owner') {
      if (!asRoot) continue;
      const path = all[next.of % all.length]!;
      await chown(path, next.uid === 'root' ? 0 : tenant.uid, next.gid === 'root' ? 0 : tenant.gid).catch(() => undefined);
      continue;
    }
    const parent = dirs[next.at % dirs.length]!;
    const path = join(parent, next.name);
    try {
      if (next.kind === 'dir') await mkdir(path);
      else if (next.kind === 'file') await writeFile(path, Buffer.alloc(next.size, 7), { flag: 'wx' });
      else if (next.kind === 'symlink') await symlink(outside, path);
      else {
        // Hard links stay in one directory, so no link joins a cache to the rest of the tree.
        const same = files.filter((file) => join(file, '..') === parent);
        if (same.length === 0) continue;
        await link(same[next.of % same.length]!, path);
      }
    } catch {
      continue; // the name is taken
    }
    all.push(path);
    if (next.kind === 'dir') dirs.push(path);
    if (next.kind === 'file') files.push(path);
  }
  return { root, dirs, files };
}

async function ownersOf(root: string): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  async function visit(path: string): Promise<void> {
    for (const entry of await readdir(path)) {
      const child = join(path, entry);
      const info = await lstat(child);
      owners.set(relative(root, child), `${info.uid}:${info.gid}`);
      if (info.isDirectory()) await visit(child);
    }
  }
  await visit(root);
  return owners;
}

describe('disk usage by du', () => {
  it('is what the walk in Node finds, for any tree and caches inside it', async () => {
    expect(await hasGnuTool('du')).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 2 }), async (steps, picks) => {
        const { root, dirs } = await build(steps);
        const inner = dirs.slice(1);
        const caches = inner.length === 0 ? [] : [...new Set(picks.map((pick) => inner[pick % inner.length]!))];
        const nested = caches.some((dir) => caches.some((other) => dir.startsWith(`${other}/`)));
        const fromDu = await duTreeUsage(root, [...caches, join(root, 'missing-cache')]);
        const walked = await walkTreeDiskUsage(root, caches);
        if (nested) expect(fromDu).toBeUndefined();
        else expect(fromDu).toEqual(walked);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves a missing tree to the walk, which counts nothing', async () => {
    const missing = join(scratch, 'nothing-here');
    expect(await duTreeUsage(missing, [])).toBeUndefined();
    expect(await walkTreeDiskUsage(missing)).toEqual({ totalBytes: 0, cacheBytes: 0 });
  });
});

describe.skipIf(!asRoot)("handing a tenant's tree to its user", () => {
  it('find lists exactly the entries the walk in Node lists, whatever the names, owners and kept names', async () => {
    expect(await hasGnuTool('find')).toBe(true);
    // Kept names: new ones, or names of entries at the top (so they do prune something).
    const keepNames = fc.array(fc.oneof(name, fc.nat()), { maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), keepNames, async (steps, picks) => {
        const { root } = await build(steps);
        const top = await readdir(root);
        const keep = picks.map((pick) => (typeof pick === 'string' || top.length === 0 ? String(pick) : top[pick % top.length]!));
        const sorted = (entries: Awaited<ReturnType<typeof foreignEntriesByWalk>>) => entries.map((entry) => JSON.stringify(entry)).sort();
        expect(sorted(await foreignEntriesByFind(root, tenant, keep))).toEqual(sorted(await foreignEntriesByWalk(root, tenant, keep)));
      }),
      {
        numRuns: 60,
        examples: [
          [
            [
              { kind: 'dir', at: 0, name: 'a' },
              { kind: 'dir', at: 0, name: '*' },
              { kind: 'dir', at: 0, name: '[a]' },
            ],
            [1],
          ],
        ],
      },
    );
  });

  it("gives every entry but kept ones and other names' files to the user, and closes the root", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const { root } = await build(steps);
        await mkdir(join(root, '.openclaw-mt'), { recursive: true });
        await writeFile(join(root, '.openclaw-mt', 'meta.json'), '{}');
        await chown(join(root, '.openclaw-mt'), 0, 0);
        const report = await handTreeTo(root, tenant, ['.openclaw-mt']);
        const skipped = new Set(report.skipped.map((path) => relative(root, path)));
        for (const [path, owner] of await ownersOf(root)) {
          if (path === '.openclaw-mt' || path.startsWith('.openclaw-mt/')) expect(owner).toBe('0:0');
          else if (skipped.has(path)) expect((await lstat(join(root, path))).nlink).toBeGreaterThan(1);
          else expect(owner).toBe(`${tenant.uid}:${tenant.gid}`);
        }
        const top = await lstat(root);
        expect([top.uid, top.gid, top.mode & 0o777]).toEqual([tenant.uid, tenant.gid, 0o700]);
        // A second hand-over has nothing left to change.
        expect((await handTreeTo(root, tenant, ['.openclaw-mt'])).changed).toBe(0);
        await chmod(root, 0o755);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses a root that is not a directory', async () => {
    const target = join(scratch, 'a-link');
    await symlink(outside, target);
    await expect(handTreeTo(target, tenant)).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
  });
});
