import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1: these describe one connection, never the message; `proxy-connection` and `keep-alive` are legacy forms.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * What a cell may not pass upstream: its own credential in any header an SDK uses, cookies, headers that pick
 * which organisation or project pays under the operator's key, client addresses, and `accept-encoding`
 * (the gateway asks for identity so it can meter the answer).
 */
const FROM_CELL_DROPPED = new Set([
  'host',
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'openai-organization',
  'openai-project',
  'x-goog-user-project',
  'accept-encoding',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'via',
]);

/** What an upstream may not pass to a cell besides hop-by-hop headers. */
const TO_CELL_DROPPED = new Set(['set-cookie', 'alt-svc']);

/** Whether `name` (lower case) is a hop-by-hop header. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/** Header names the `connection` header lists: hop-by-hop for this message too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const tokens = (Array.isArray(value) ? value.join(',') : value).split(',').map((token) => token.trim().toLowerCase());
  return new Set(tokens.filter((token) => token !== ''));
}

function copyHeaders(incoming: IncomingHttpHeaders, dropped: ReadonlySet<string>, also?: ReadonlySet<string>): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || dropped.has(name) || listed?.has(name) || also?.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The upstream request's headers: the cell's, minus what it may not send, plus the operator's and the real key. */
export function upstreamHeaders(
  incoming: IncomingHttpHeaders,
  provider: { headers: ReadonlyArray<readonly [string, string]>; key: { header: string; prefix?: string } },
  apiKey: string | undefined,
  overridden: ReadonlySet<string>,
): OutgoingHttpHeaders {
  const out = copyHeaders(incoming, FROM_CELL_DROPPED, overridden);
  for (const [name, value] of provider.headers) out[name] = value;
  out['accept-encoding'] = 'identity';
  if (apiKey !== undefined) out[provider.key.header] = `${provider.key.prefix ?? ''}${apiKey}`;
  return out;
}

/** The names a provider's config sets upstream (its static headers and its key header), which a cell's headers never replace. */
export function overriddenNames(provider: { headers: ReadonlyArray<readonly [string, string]>; key: { header: string } }): Set<string> {
  return new Set([...provider.headers.map(([name]) => name), provider.key.header]);
}

/** The answer's headers for the cell: the upstream's, minus hop-by-hop headers and cookies. */
export function downstreamHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  return copyHeaders(incoming, TO_CELL_DROPPED);
}
