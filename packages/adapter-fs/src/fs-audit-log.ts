import { constants } from 'node:fs';
import { open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assertAuditEntry, filterAuditEntries } from '@openclaw-mt/core/contracts';
import { MultiTenantError, type AuditEntry, type AuditLog } from '@openclaw-mt/core';
import { FILE_MODE } from './permissions.js';
import { prepareRootDirectory } from './root-directory.js';
import { errnoCode, storageError } from './storage-error.js';

/** Options for {@link createFsAuditLog}. */
export interface FsAuditLogOptions {
  /** Directory of the log (created 0700; refused if a symlink or group/world-writable). */
  root: string;
  /** The log is rotated to `audit.log.1` past this size (default 16 MiB). */
  maxBytes?: number;
}

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

function parseLines(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as AuditEntry);
    } catch {
      // A line torn by a crash mid-append: skip it, keep the rest.
    }
  }
  return out;
}

/**
 * The audit log on local disk: one JSON line per entry, each appended with a single `O_APPEND`
 * write, so the gateway and the CLI can write concurrently without interleaving. The file is 0600
 * and rotated once past `maxBytes`.
 */
export function createFsAuditLog(options: FsAuditLogOptions): AuditLog {
  const root = prepareRootDirectory(options.root, 'auditRoot');
  const path = join(root, 'audit.log');
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;

  async function readAll(name: string): Promise<AuditEntry[]> {
    try {
      return parseLines(await readFile(join(root, name), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW }));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw storageError(error, 'Reading the audit log');
    }
  }

  return {
    name: 'fs',
    async append(entry) {
      const line = Buffer.from(`\n${JSON.stringify(assertAuditEntry(entry))}\n`);
      try {
        const size = await stat(path).then(
          (stats) => stats.size,
          () => 0,
        );
        // Two writers may both rotate: the second rename only moves a nearly empty file, losing nothing.
        if (size > maxBytes) await rename(path, `${path}.1`).catch(() => undefined);
        const file = await open(path, APPEND, FILE_MODE);
        try {
          await file.chmod(FILE_MODE);
          await file.write(line);
        } finally {
          await file.close();
        }
      } catch (error) {
        if (error instanceof MultiTenantError) throw error;
        throw storageError(error, 'Writing the audit log');
      }
    },
    async list(query) {
      const entries = [...(await readAll('audit.log.1')), ...(await readAll('audit.log'))];
      // Appends from several processes land in arrival order; order by time for readers.
      entries.sort((a, b) => b.at - a.at);
      return filterAuditEntries(entries, query);
    },
  };
}
