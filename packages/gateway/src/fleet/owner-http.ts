import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { MultiTenantError } from '@openclaw-mt/core';
import { endToEndHeaders } from '../http/hop-by-hop.js';
import { sendHttpError } from '../http/http-error-response.js';
import { FLEET_HEADER, signFleetCredential } from './fleet-credential.js';
import { FORWARDED_HEADERS } from './owner-link.js';

/** Where a tenant HTTP request arrives on the owner's internal port: this prefix, then the client's own path. */
export const TENANT_HTTP_PREFIX = '/fleet/v1/tenant-http';

// What the client says about itself on the way in: only this node could vouch for it, and the owner hears it from us.
const NOT_FORWARDED = new Set(['host', FLEET_HEADER, FORWARDED_HEADERS.address, FORWARDED_HEADERS.nonce]);

/**
 * Carries one tenant HTTP request to the node that owns the tenant (its internal port, `ws://host:port`
 * in the directory) and streams the owner's answer back. The owner authenticates, pins and serves it
 * as its own, counting the client's address this node saw. Settles when the answer is over; an owner
 * that cannot be reached gets a retryable `BACKEND_UNAVAILABLE` (or a cut answer, once it started).
 */
export function forwardHttpToOwner(
  ownerAddress: string,
  secret: string,
  clientAddress: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const owner = new URL(ownerAddress.replace(/^ws/, 'http'));
  return new Promise<void>((resolve) => {
    const upstream = httpRequest({
      host: owner.hostname.replace(/^\[|\]$/g, ''),
      port: owner.port,
      method: request.method,
      path: `${TENANT_HTTP_PREFIX}${request.url ?? '/'}`,
      headers: {
        ...endToEndHeaders(request.headers, NOT_FORWARDED),
        [FLEET_HEADER]: signFleetCredential(secret),
        [FORWARDED_HEADERS.address]: clientAddress,
      },
      agent: false,
    });
    response.once('close', () => {
      upstream.destroy();
      resolve();
    });
    upstream.once('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.headers));
      response.flushHeaders();
      answer.pipe(response);
      answer.once('error', () => response.destroy());
    });
    upstream.once('error', () => {
      if (response.headersSent) response.destroy();
      else
        sendHttpError(
          response,
          new MultiTenantError('BACKEND_UNAVAILABLE', 'The node that owns this account is unreachable; retry shortly.', {
            retryAfterMs: 500,
            details: { reason: 'owner-unreachable' },
          }),
          { connection: 'close' },
        );
    });
    request.pipe(upstream);
  });
}
