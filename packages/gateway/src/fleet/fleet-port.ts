import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { FLEET_HEADER, verifyFleetCredential } from './fleet-credential.js';
import { TENANT_HTTP_PREFIX } from './owner-http.js';
import { FORWARDED_HEADERS, type ForwardedClient } from './owner-link.js';

/** The internal port: only requests carrying a valid fleet credential get past it. */
export interface FleetPort {
  readonly server: Server;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

function bearerOf(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/**
 * Creates the internal port. Upgrades from other nodes become forwarded client sessions (`accept`);
 * plain requests go to `route` (fleet operations). Anything without the fleet credential gets 401 and
 * never reaches a tenant.
 */
export function createFleetPort(options: {
  secret: string;
  accept: (request: IncomingMessage, socket: Duplex, head: Buffer, client: ForwardedClient) => void;
  route: (request: IncomingMessage, body: unknown) => Promise<{ status: number; body: unknown }>;
  /** A tenant HTTP request another node carried here (its own path restored), with the client address that node saw. */
  tenantHttp?: (request: IncomingMessage, response: ServerResponse, clientAddress: string) => void;
}): FleetPort {
  const server = createServer((request, response) => {
    if (!verifyFleetCredential(options.secret, request.headers[FLEET_HEADER])) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"fleet credential required"}');
      return;
    }
    if (options.tenantHttp !== undefined && request.url?.startsWith(`${TENANT_HTTP_PREFIX}/`)) {
      const address = header(request, FORWARDED_HEADERS.address);
      if (address === undefined) {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"client address required"}');
        return;
      }
      // The route sees the client's request as the entry node got it: no fleet credential for a tenant's cell to keep.
      for (const name of [FLEET_HEADER, FORWARDED_HEADERS.address, FORWARDED_HEADERS.nonce]) delete request.headers[name];
      // Streamed as it comes (bodies are the route's to read and cap), under the client's own path.
      request.url = request.url.slice(TENANT_HTTP_PREFIX.length);
      options.tenantHttp(request, response, address);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > 64 * 1024) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      let body: unknown;
      try {
        body = chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid JSON"}');
        return;
      }
      options.route(request, body).then(
        ({ status, body: answer }) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
        () => response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}'),
      );
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const nonce = header(request, FORWARDED_HEADERS.nonce);
    const address = header(request, FORWARDED_HEADERS.address);
    if (!verifyFleetCredential(options.secret, request.headers[FLEET_HEADER]) || nonce === undefined || address === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    options.accept(request, socket, head, { nonce, address, bearer: bearerOf(request) });
  });
  return {
    server,
    async listen(host, port) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
