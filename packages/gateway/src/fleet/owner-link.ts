import { MultiTenantError } from '@openclaw-mt/core';
import { WebSocket } from 'ws';
import { FLEET_HEADER, signFleetCredential } from './fleet-credential.js';

/** Headers that tell the owner what the forwarding node saw. Trusted only with a valid fleet credential. */
export const FORWARDED_HEADERS = { nonce: 'x-openclaw-mt-nonce', address: 'x-openclaw-mt-client-address' } as const;

/** What a forwarding node passes on about its client. */
export interface ForwardedClient {
  /** The challenge nonce the client received (device signatures are made over it). */
  nonce: string;
  /** The client's address, for the owner's per-address auth limits. */
  address: string;
  /** A token the client sent as `Authorization: Bearer`. */
  bearer: string | undefined;
}

/**
 * Opens an internal link to the node that owns a tenant. Resolves once the owner accepted the
 * upgrade; rejects with `BACKEND_UNAVAILABLE` (retryable) when it cannot be reached in time.
 */
export function openOwnerLink(address: string, secret: string, client: ForwardedClient, timeoutMs: number): Promise<WebSocket> {
  const headers: Record<string, string> = {
    [FLEET_HEADER]: signFleetCredential(secret),
    [FORWARDED_HEADERS.nonce]: client.nonce,
    [FORWARDED_HEADERS.address]: client.address,
  };
  if (client.bearer !== undefined) headers.authorization = `Bearer ${client.bearer}`;
  const link = new WebSocket(address, { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      link.terminate();
      reject(
        new MultiTenantError('BACKEND_UNAVAILABLE', `The node that owns this account is unreachable (${why}); retry shortly.`, {
          retryAfterMs: 500,
        }),
      );
    };
    link.once('open', () => {
      link.removeAllListeners('error');
      link.removeAllListeners('unexpected-response');
      resolve(link);
    });
    link.once('error', (error) => fail(error.message));
    link.once('unexpected-response', (_request, response) => fail(`HTTP ${response.statusCode}`));
  });
}
