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

/** The headers of `headers` that belong to this hop: the standard ones and those its `Connection` names. */
export function hopByHopHeaders(headers: IncomingHttpHeaders): Set<string> {
  const listed = headers.connection;
  const named = typeof listed === 'string' ? listed.split(',').map((name) => name.trim().toLowerCase()) : [];
  return new Set([...HOP_BY_HOP, ...named]);
}

/** `headers` without this hop's own, and without the names in `also`, for the next hop. */
export function endToEndHeaders(headers: IncomingHttpHeaders, also: ReadonlySet<string> = new Set()): OutgoingHttpHeaders {
  const dropped = hopByHopHeaders(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !dropped.has(name) && !also.has(name)) out[name] = value;
  return out;
}
