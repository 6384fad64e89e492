import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';
import { writeFileAtomic } from '@openclaw-mt/core/helpers';
import type { TenantUser } from './tenant-user.js';

/** Reads and writes small files inside a tenant's tree, with that tenant's own permissions. */
export interface TenantFileIO {
  /** A file's text, or `undefined` when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Replaces a file atomically (temp file in the same directory, fsync, rename), mode 0600. */
  write(path: string, text: string): Promise<void>;
}

const MAX_BYTES = 8 * 1024 * 1024;

// Runs as the tenant's user: whatever links the tenant planted, it can reach only what that user can.
const HELPER = `
const fs = require('node:fs');
const path = require('node:path');
const [op, file, temp] = process.argv.slice(1);
if (op === 'read') {
  let fd;
  try { fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); }
  catch (e) { if (e.code === 'ENOENT') process.exit(3); throw e; }
  const info = fs.fstatSync(fd);
  if (!info.isFile() || info.size > ${MAX_BYTES}) process.exit(4);
  process.stdout.write(fs.readFileSync(fd));
} else {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    fs.writeFileSync(fd, Buffer.concat(chunks));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(temp, file);
  });
}
`;

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** File access as the gateway's own user (no per-tenant OS users). */
function directIO(): TenantFileIO {
  return {
    async read(path) {
      let file: FileHandle;
      try {
        file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      try {
        const info = await file.stat();
        if (!info.isFile() || info.size > MAX_BYTES)
          throw new MultiTenantError('CONFIG_INVALID', `${path} is not a regular file of at most ${MAX_BYTES} bytes.`);
        return await file.readFile('utf8');
      } finally {
        await file.close();
      }
    },
    async write(path, text) {
      await writeFileAtomic(path, text);
    },
  };
}

/** File access through a short-lived helper process running as the tenant's OS user. */
function helperIO(user: TenantUser, nodePath: string): TenantFileIO {
  function runHelper(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(nodePath, ['-e', HELPER, ...args], {
        uid: user.uid,
        gid: user.gid,
        env: { PATH: '/usr/bin:/bin' },
        cwd: '/',
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 30_000,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
      );
      // A helper that exits before taking its input (it failed, or a read needs none) breaks the pipe (EPIPE):
      // its exit code already says what happened, and an unhandled stream error would take the gateway down.
      child.stdin.on('error', () => undefined);
      if (input === undefined) child.stdin.end();
      else child.stdin.end(input);
    });
  }
  const failure = (op: string, path: string, result: { code: number; stderr: string }) =>
    new MultiTenantError(
      'INTERNAL',
      `Could not ${op} ${path} as ${user.name} (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-1)[0] ?? ''}`,
    );
  return {
    async read(path) {
      const result = await runHelper(['read', path]);
      if (result.code === 3) return undefined;
      if (result.code === 4) throw new MultiTenantError('CONFIG_INVALID', `${path} is not a regular file of at most ${MAX_BYTES} bytes.`);
      if (result.code !== 0) throw failure('read', path, result);
      return result.stdout;
    },
    async write(path, text) {
      const result = await runHelper(['write', path, tempName(path)], text);
      if (result.code !== 0) throw failure('write', path, result);
    },
  };
}

/**
 * File access for a tenant's tree: as the tenant's OS user when there is one (a helper process run
 * with the tenant's uid, so links the tenant planted can reach nothing of anyone else's), else
 * directly with `O_NOFOLLOW`.
 */
export function tenantFileIO(user: TenantUser | undefined, nodePath: string): TenantFileIO {
  return user === undefined ? directIO() : helperIO(user, nodePath);
}
