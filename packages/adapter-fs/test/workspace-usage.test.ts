import { afterAll, expect, test } from 'vitest';
import fc from 'fast-check';
import { rejectsWithCode } from '@openclaw-mt/core/testing';
import { createFsWorkspaceStore } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('workspace-usage');
afterAll(() => dirs.cleanup());

const names = ['workspace/a.md', 'workspace/notes/b.md', 'workspace/notes/deep/c.txt', 'sessions/main.jsonl'];
const operation = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), name: fc.constantFrom(...names), size: fc.nat(300) }),
  fc.record({ kind: fc.constant('append' as const), name: fc.constantFrom(...names), size: fc.nat(300) }),
  fc.record({ kind: fc.constant('remove' as const), name: fc.constantFrom(...names), size: fc.constant(0) }),
);

async function scannedTotal(handle: { list(prefix?: string): Promise<{ size: number }[]> }): Promise<number> {
  return (await handle.list()).reduce((sum, file) => sum + file.size, 0);
}

test('the kept total equals a fresh count of the tree after any sequence of writes, appends and removes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { maxLength: 25 }), async (operations) => {
      const store = createFsWorkspaceStore({ root: dirs.make() });
      const handle = await store.open('usage_prop');
      for (const { kind, name, size } of operations) {
        if (kind === 'write') await handle.write(name, 'w'.repeat(size));
        else if (kind === 'append') await handle.append(name, 'a'.repeat(size));
        else await handle.remove(name);
        expect(await handle.usage()).toBe(await scannedTotal(handle));
      }
      // A second store (a restarted process) counts the same total from disk.
      const again = await createFsWorkspaceStore({ root: store.root }).open('usage_prop');
      expect(await again.usage()).toBe(await handle.usage());
      await store.close();
    }),
    { numRuns: 25 },
  );
});

test('a write that would pass the quota on top of what the workspace already holds is refused and changes nothing', async () => {
  const root = dirs.make();
  const first = await createFsWorkspaceStore({ root }).open('usage_quota');
  await first.write('workspace/big.bin', new Uint8Array(6_000));
  // A new process activates the workspace: the existing 6 000 bytes are counted, not assumed zero.
  const store = createFsWorkspaceStore({ root, limits: { maxWorkspaceBytes: (await first.usage()) + 1_000 } });
  const handle = await store.open('usage_quota');
  const before = await handle.usage();
  await rejectsWithCode(() => handle.write('workspace/more.bin', new Uint8Array(1_001)), 'QUOTA_EXCEEDED');
  await rejectsWithCode(() => handle.append('workspace/big.bin', new Uint8Array(1_001)), 'QUOTA_EXCEEDED');
  expect(await handle.usage()).toBe(before);
  expect((await handle.list('workspace/more.bin')).length).toBe(0);
  // Replacing a file counts only the difference: shrinking the big file makes room.
  await handle.write('workspace/big.bin', new Uint8Array(1_000));
  await handle.write('workspace/more.bin', new Uint8Array(5_900));
  expect(await handle.usage()).toBe(await scannedTotal(handle));
});
