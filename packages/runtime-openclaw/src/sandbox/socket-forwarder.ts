import { lstat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP port that leads into a sandboxed cell. */
export interface SocketForwarder {
  close(): Promise<void>;
}

/**
 * Listens on `127.0.0.1:<port>` and joins each connection to the Unix socket at `socketPath` (the
 * relay inside a cell without network), so the bridge and readiness checks reach the cell at its
 * port as they would an unsandboxed one. The socket must be a socket owned by `ownerUid`: the
 * directory is the tenant's, and a link planted there is never followed to another cell.
 */
export async function forwardPortToSocket(port: number, socketPath: string, ownerUid: number): Promise<SocketForwarder> {
  const open = new Set<Socket>();
  const server: Server = createServer({ pauseOnConnect: true }, (inbound) => {
    open.add(inbound);
    inbound.on('close', () => open.delete(inbound));
    inbound.on('error', () => inbound.destroy());
    void lstat(socketPath).then(
      (info) => {
        if (!info.isSocket() || info.uid !== ownerUid) {
          inbound.destroy();
          return;
        }
        const outbound = connect(socketPath);
        const drop = () => {
          inbound.destroy();
          outbound.destroy();
        };
        inbound.on('close', drop);
        outbound.on('error', drop).on('close', drop);
        outbound.once('connect', () => {
          inbound.pipe(outbound).pipe(inbound);
          inbound.resume();
        });
      },
      () => inbound.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
