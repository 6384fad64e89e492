import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An extra HTTP route on the gateway's port (next to the WebSocket upgrade and `/healthz`): it answers and
 * returns `true` when the request is its own, else returns `false` and leaves the response alone.
 */
export type HttpRoute = (request: IncomingMessage, response: ServerResponse) => boolean;
