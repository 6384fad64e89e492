import { hash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_DIRECTORIES } from '@openclaw-mt/core/contracts';
import { isMultiTenantError } from '@openclaw-mt/core';
import { ensureDirectory, readLocalFile, removeTree, scanLocalFiles, statLocalFile, writeLocalFile } from './local-files.js';
import type { RemoteWorkspace, WriteBackOp } from './remote-workspace.js';

/** What a local file looked like when it last matched Redis. */
interface Stamp {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  /** SHA-256 of the content, when known. */
  digest: string | undefined;
  /** Wall-clock ms just before the stats were taken. */
  takenAt: number;
}

/**
 * Filesystem timestamps advance in coarse ticks: a change within the same tick as the stamped mtime
 * leaves size and times unchanged. Stamps taken this close to their file's mtime are "racy" and are
 * confirmed by content instead (git's racy-clean rule).
 */
const RACY_MS = 2_000;

/** A local change to write back, with what is needed to stamp it afterwards. */
export interface LocalChange extends WriteBackOp {
  stats?: BigIntStats;
  digest?: string;
  takenAt: number;
}

function digest(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

function sameStats(stamp: Stamp, stats: BigIntStats): boolean {
  return stamp.size === stats.size && stamp.mtimeNs === stats.mtimeNs && stamp.ctimeNs === stats.ctimeNs && stamp.ino === stats.ino;
}

/**
 * A tenant's workspace materialised in a node-local directory (`handle.directory`) — the working
 * copy a child process can use — plus, per file, a stamp of the state last known to match Redis.
 * Changes made in the directory behind the handle's back are found by comparing against the stamps
 * and written back in one fenced batch. Callers serialise access (one operation at a time).
 */
export class WorkspaceMirror {
  /** Open handles sharing this copy. */
  refs = 0;
  /** Set when the workspace was destroyed; handles then fail with `NOT_FOUND`. */
  destroyed = false;
  readonly #stamps = new Map<string, Stamp>();

  constructor(
    readonly root: string,
    readonly remote: RemoteWorkspace,
  ) {}

  /** Replaces whatever is in the directory with the Redis copy, in the standard layout. */
  async materialise(): Promise<void> {
    await removeTree(this.root);
    await ensureDirectory(this.root);
    for (const dir of WORKSPACE_DIRECTORIES) await ensureDirectory(join(this.root, dir));
    this.#stamps.clear();
    const files = await this.remote.files();
    for (let i = 0; i < files.length; i += 16) {
      await Promise.all(
        files.slice(i, i + 16).map(async ({ name }) => {
          const data = await this.remote.read(name);
          if (data === undefined) return;
          try {
            await writeLocalFile(this.root, name, data);
          } catch (error) {
            // `a` and `a/b` cannot both be files on disk; the one that does not fit stays in Redis only.
            if (isMultiTenantError(error, 'PATH_INVALID')) return;
            throw error;
          }
          await this.stamp(name, digest(data));
        }),
      );
    }
  }

  /** Records the local file as matching Redis (after this node wrote both). */
  async stamp(name: string, contentDigest: string | undefined): Promise<void> {
    const takenAt = Date.now();
    const stats = await statLocalFile(this.root, name);
    if (stats === undefined) this.#stamps.delete(name);
    else
      this.#stamps.set(name, {
        size: stats.size,
        mtimeNs: stats.mtimeNs,
        ctimeNs: stats.ctimeNs,
        ino: stats.ino,
        digest: contentDigest,
        takenAt,
      });
  }

  /** Forgets a file (deleted on both sides). */
  forget(name: string): void {
    this.#stamps.delete(name);
  }

  /** Digest of data this node is about to write to both copies. */
  static digest(data: Uint8Array): string {
    return digest(data);
  }

  async #unchanged(name: string, stats: BigIntStats): Promise<boolean> {
    const stamp = this.#stamps.get(name);
    if (stamp === undefined || !sameStats(stamp, stats)) return false;
    if (Number(stats.mtimeNs / 1_000_000n) + RACY_MS < stamp.takenAt) return true;
    if (stamp.digest === undefined) return false;
    const data = await readLocalFile(this.root, name);
    return data !== undefined && digest(data) === stamp.digest;
  }

  /**
   * Local changes not yet in Redis: files created or modified in the directory, and files deleted
   * from it. Only `names` when given (a single file before an append).
   */
  async changes(names?: readonly string[]): Promise<LocalChange[]> {
    const takenAt = Date.now();
    let found: Map<string, BigIntStats>;
    if (names === undefined) found = await scanLocalFiles(this.root);
    else {
      found = new Map();
      for (const name of names) {
        const stats = await statLocalFile(this.root, name);
        if (stats !== undefined) found.set(name, stats);
      }
    }
    const ops: LocalChange[] = [];
    for (const [name, stats] of found) {
      if (await this.#unchanged(name, stats)) continue;
      const data = await readLocalFile(this.root, name);
      if (data === undefined) continue;
      const contentDigest = digest(data);
      const stamp = this.#stamps.get(name);
      if (stamp?.digest === contentDigest) {
        // Touched, not changed: refresh the stamp, write nothing.
        this.#stamps.set(name, { ...stamp, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs, ino: stats.ino, takenAt });
        continue;
      }
      ops.push({ name, data, stats, digest: contentDigest, takenAt });
    }
    for (const name of names ?? [...this.#stamps.keys()]) {
      if (this.#stamps.has(name) && !found.has(name)) ops.push({ name, data: undefined, takenAt });
    }
    return ops;
  }

  /** Records written-back changes as matching Redis. */
  settled(ops: readonly LocalChange[]): void {
    for (const op of ops) {
      if (op.data === undefined || op.stats === undefined) {
        this.#stamps.delete(op.name);
        continue;
      }
      const { stats } = op;
      this.#stamps.set(op.name, {
        size: stats.size,
        mtimeNs: stats.mtimeNs,
        ctimeNs: stats.ctimeNs,
        ino: stats.ino,
        digest: op.digest,
        takenAt: op.takenAt,
      });
    }
  }

  /** Deletes the local copy. */
  async remove(): Promise<void> {
    await removeTree(this.root);
    this.#stamps.clear();
  }
}
