import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { endToEndHeaders } from '@openclaw-mt/gateway';

/**
 * What a client may not tell a cell: its own credentials (the front door puts the cell's in their
 * place), scopes (OpenClaw would honour them from a trusted proxy), and where the request came from
 * (only the front door could vouch for that). `expect` is answered by the front door itself.
 */
const CLIENT_ONLY = new Set([
  'host',
  'authorization',
  'x-openclaw-token',
  'x-openclaw-scopes',
  'forwarded',
  'x-real-ip',
  'cookie',
  'expect',
]);

/** The client's request headers as the cell gets them: hop-by-hop and client-only headers gone, the cell's credential in. */
export function requestHeadersForCell(headers: IncomingHttpHeaders, port: number, credential: string): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers, CLIENT_ONLY);
  for (const name of Object.keys(out)) if (name.startsWith('x-forwarded-')) delete out[name];
  out.host = `127.0.0.1:${port}`;
  out.authorization = `Bearer ${credential}`;
  return out;
}

/** The cell's response headers as the client gets them: hop-by-hop headers gone. */
export function responseHeadersForClient(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return endToEndHeaders(headers);
}
