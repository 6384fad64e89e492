import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResult } from '@openclaw-mt/core';

/** What the gateway lends an extra HTTP route for one request. */
export interface HttpRouteContext {
  /**
   * Checks a gateway token the request presents, exactly as a WebSocket login is checked: through the
   * manager, counted by the same per-address brute-force limiter (a locked-out address gets
   * `RATE_LIMITED`). A route that accepts tokens uses this, so no HTTP path is an unlimited oracle.
   */
  authenticate(token: string | undefined): Promise<AuthResult>;
}

/**
 * An extra HTTP route on the gateway's port (next to the WebSocket upgrade and `/healthz`): it answers and
 * returns `true` when the request is its own, else returns `false` and leaves the response alone.
 */
export type HttpRoute = (request: IncomingMessage, response: ServerResponse, context: HttpRouteContext) => boolean;
