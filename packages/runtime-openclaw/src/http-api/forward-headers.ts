import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Headers of one hop only (RFC 9110 §7.6.1), never passed on in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

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

function droppedBy(headers: IncomingHttpHeaders): Set<string> {
  const listed = headers.connection;
  const named = typeof listed === 'string' ? listed.split(',').map((name) => name.trim().toLowerCase()) : [];
  return new Set([...HOP_BY_HOP, ...named]);
}

/** The client's request headers as the cell gets them: hop-by-hop and client-only headers gone, the cell's credential in. */
export function requestHeadersForCell(headers: IncomingHttpHeaders, port: number, credential: string): OutgoingHttpHeaders {
  const dropped = droppedBy(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || dropped.has(name) || CLIENT_ONLY.has(name) || name.startsWith('x-forwarded-')) continue;
    out[name] = value;
  }
  out.host = `127.0.0.1:${port}`;
  out.authorization = `Bearer ${credential}`;
  return out;
}

/** The cell's response headers as the client gets them: hop-by-hop headers gone. */
export function responseHeadersForClient(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const dropped = droppedBy(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !dropped.has(name)) out[name] = value;
  return out;
}
