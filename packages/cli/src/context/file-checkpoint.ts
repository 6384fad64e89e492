import { readFile } from 'node:fs/promises';
import { MultiTenantError } from '@openclaw-mt/core';
import type { MigrationCheckpoint } from '@openclaw-mt/core/transfer';
import { writeFileAtomic } from '@openclaw-mt/core/helpers';

const FORMAT = 'openclaw-mt.migration-checkpoint';

interface CheckpointFile {
  format: typeof FORMAT;
  /** Which migration this is (source and target), so a checkpoint is never applied to another one. */
  migration: string;
  updatedAt: number;
  done: string[];
}

/**
 * A {@link MigrationCheckpoint} in a JSON file, rewritten atomically (temp, fsync, rename), so a run
 * killed at any moment leaves either the previous or the next complete list. Marks are coalesced:
 * at most one write is in flight and one pending; `flush` waits for the last.
 */
export function createFileCheckpoint(path: string, migration: string): MigrationCheckpoint & { readonly path: string } {
  const done = new Set<string>();
  let writing: Promise<void> | undefined;
  let dirty = false;

  const writeNow = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      const file: CheckpointFile = { format: FORMAT, migration, updatedAt: Date.now(), done: [...done].sort() };
      await writeFileAtomic(path, `${JSON.stringify(file)}\n`);
    }
  };
  const schedule = (): Promise<void> => {
    dirty = true;
    writing ??= writeNow().finally(() => {
      writing = undefined;
    });
    return writing;
  };

  return {
    path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new MultiTenantError('BAD_REQUEST', `Cannot read the checkpoint ${path}.`, { cause: error });
      }
      let file: Partial<CheckpointFile>;
      try {
        file = JSON.parse(text) as Partial<CheckpointFile>;
      } catch (error) {
        throw new MultiTenantError('BAD_REQUEST', `The checkpoint ${path} is not valid JSON; delete it to start over.`, { cause: error });
      }
      if (file.format !== FORMAT || !Array.isArray(file.done) || file.done.some((id) => typeof id !== 'string')) {
        throw new MultiTenantError('BAD_REQUEST', `${path} is not a migration checkpoint.`);
      }
      if (file.migration !== migration) {
        throw new MultiTenantError(
          'BAD_REQUEST',
          `The checkpoint ${path} belongs to another migration (${String(file.migration)}); pass another --checkpoint file.`,
        );
      }
      for (const id of file.done) done.add(id);
      return [...done];
    },
    async markDone(tenantId) {
      done.add(tenantId);
      // Not awaited per tenant: a mark lost in a crash only means the tenant is verified again.
      void schedule().catch(() => undefined);
    },
    async flush() {
      await writing;
      if (dirty || writing === undefined) await schedule();
    },
  };
}
