import { lstatSync, unlinkSync } from 'node:fs';
import { chmod, chown, link, lstat, mkdtemp, rm, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';

/** A loopback TCP address to listen on. */
export interface TcpListenOptions {
  /** Loopback only: `127.0.0.1` (default), `::1`, `localhost` or another `127.x.y.z`. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

/** A Unix socket to listen on. */
export interface SocketListenOptions {
  /** Path of the socket file; its directory must exist. A stale socket there is replaced, a live one is refused. */
  path: string;
  /** File mode of the socket (default `0o600`; `0o660` to let a group — a sandboxed cell's — connect). */
  mode?: number;
  /** Owner to give the socket (root only). */
  uid?: number;
  /** Group to give the socket (root, or a group the process is in). */
  gid?: number;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function waitListening(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });
}

/** Listens on loopback TCP; resolves with the bound address. `CONFIG_INVALID` for a non-loopback host. */
export async function listenTcp(server: Server, options: TcpListenOptions): Promise<{ host: string; port: number }> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host))
    throw new MultiTenantError('CONFIG_INVALID', `The model gateway listens on loopback only; "${host}" is not a loopback address.`, {
      details: { key: 'host' },
    });
  const listening = waitListening(server);
  server.listen(options.port ?? 0, host);
  await listening;
  const address = server.address() as AddressInfo;
  return { host: address.address, port: address.port };
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function clearStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stat === undefined) return;
  if (!stat.isSocket())
    throw new MultiTenantError('CONFIG_INVALID', `${path} exists and is not a socket; refusing to replace it.`, {
      details: { key: 'path' },
    });
  if (await answers(path))
    throw new MultiTenantError('CONFLICT', `Something already listens on ${path}.`, { details: { reason: 'socket-in-use' } });
  await unlink(path);
}

/** Removes the socket at `path` unless another has taken its place. */
function removeSocket(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // Removed already.
  }
}

/**
 * Listens on a Unix socket with the given mode and owner. The socket is bound in a private directory beside its
 * path (0700, this process's), given its mode and owner there, then linked into place: it is never connectable by
 * anyone else, even for a moment. Not by narrowing the umask around the bind: the umask is the process's, and the
 * threads doing this process's other file work meanwhile (a cell's directories, say) would create with it too.
 * Closing the server removes the socket.
 */
export async function listenSocket(server: Server, options: SocketListenOptions): Promise<void> {
  const mode = options.mode ?? 0o600;
  if (!Number.isInteger(mode) || mode < 0 || (mode & ~0o770) !== 0)
    throw new MultiTenantError('CONFIG_INVALID', 'A socket mode gives at most read/write to its owner and group (0o600, 0o660).', {
      details: { key: 'mode' },
    });
  await clearStaleSocket(options.path);
  // A short name: a socket path has at most 107 bytes, and this one is no longer than most final ones.
  const staging = await mkdtemp(join(dirname(options.path), '.s-'));
  try {
    const bound = join(staging, 's');
    const listening = waitListening(server);
    server.listen(bound);
    await listening;
    try {
      await chmod(bound, mode);
      if (options.uid !== undefined || options.gid !== undefined) await chown(bound, options.uid ?? -1, options.gid ?? -1);
      const { ino } = await lstat(bound);
      // A link, not a rename: it never replaces what appeared at the path meanwhile (EEXIST instead).
      await link(bound, options.path);
      // The server unlinks the path it was bound to, which is gone by then: this removes the socket where it is now.
      server.once('close', () => removeSocket(options.path, ino));
    } catch (error) {
      await new Promise((resolve) => server.close(resolve));
      throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
