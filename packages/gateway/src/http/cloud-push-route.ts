import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_PUSH_BYTES, PUSH_SIGNATURE_HEADER, type PushAnswer, type PushReceiver } from '@openclaw-mt/core/cloud';
import type { HttpRoute } from './http-route.js';

/** Where pushes are received by default. */
export const DEFAULT_PUSH_PATH = '/v1/cloud-events';

/** Options of {@link createCloudPushRoute}. */
export interface CloudPushRouteOptions {
  /** The Cloud Backend integration's receiver (`cloud.push`). */
  receiver: PushReceiver;
  /** Path of the route. Default `/v1/cloud-events`. */
  path?: string;
}

function send(
  response: ServerResponse,
  answer: PushAnswer | { status: number; body: unknown },
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > MAX_PUSH_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).byteLength;
    if (total > MAX_PUSH_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/**
 * The route where the Cloud Backend pushes signed events (contract v1.1): `POST <path>` with the
 * `OpenClaw-Signature` header and the event as JSON. The receiver checks the signature and replay window,
 * applies the event once per id, and the answer (200, 400, 401, 413, 500) goes back to the backend. Mount
 * it on the gateway's port with `createGateway({ httpRoutes: [route] })`.
 */
export function createCloudPushRoute(options: CloudPushRouteOptions): HttpRoute {
  const path = options.path ?? DEFAULT_PUSH_PATH;
  return (request, response) => {
    const pathname = (request.url ?? '/').split('?')[0];
    if (pathname !== path) return false;
    if (request.method !== 'POST') {
      send(response, { status: 405, body: { error: { code: 'BAD_REQUEST', message: 'Push events with POST.' } } }, { allow: 'POST' });
      return true;
    }
    void readBody(request)
      .then(async (body) => {
        if (body === undefined) {
          send(response, {
            status: 413,
            body: { error: { code: 'BAD_REQUEST', message: `Push bodies are at most ${MAX_PUSH_BYTES} bytes.` } },
          });
          request.resume();
          return;
        }
        const signature = request.headers[PUSH_SIGNATURE_HEADER];
        send(response, await options.receiver.handle({ signature: typeof signature === 'string' ? signature : undefined, body }));
      })
      .catch(() => {
        if (!response.headersSent)
          send(response, { status: 500, body: { error: { code: 'INTERNAL', message: 'The event could not be read.' } } });
        else response.destroy();
      });
    return true;
  };
}
