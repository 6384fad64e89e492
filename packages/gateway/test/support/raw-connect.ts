import { request } from 'node:http';
import { WebSocket } from 'ws';

/**
 * One handshake over a plain `ws` socket with any headers: resolves with `ok` (hello-ok), the error's
 * `details.code`, or `HTTP <status>` when the upgrade was refused.
 */
export function handshake(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    let outcome: string | undefined;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; event?: string; ok?: boolean; error?: { details?: { code?: string } } };
      if (frame.type === 'event' && frame.event === 'connect.challenge') {
        const auth = token === undefined ? {} : { auth: { token } };
        socket.send(JSON.stringify({ type: 'req', id: 'c', method: 'connect', params: { minProtocol: 4, maxProtocol: 4, ...auth } }));
      } else if (frame.type === 'res') {
        outcome = frame.ok ? 'ok' : String(frame.error?.details?.code);
        socket.close();
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      outcome = `HTTP ${response.statusCode}`;
      response.resume();
      socket.terminate();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(outcome ?? 'closed'));
  });
}

/** A bare upgrade request, to read a refusal's status, headers and body. */
export function upgradeRequest(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(url.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const outgoing = request(target, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    outgoing.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    outgoing.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 101, headers: response.headers, body: '' });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
