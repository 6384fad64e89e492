import { BlockList, isIP } from 'node:net';

/**
 * Which proxies in front of the gateway may name the client in `X-Forwarded-For`: `false` (none: the
 * socket's peer is the client), a hop count (that many proxies, nearest first), or the proxies'
 * addresses and CIDR ranges.
 */
export type TrustProxy = false | number | readonly string[];

/** The client address of a request: the right-most address that no trusted hop vouches for. */
export type ClientAddressResolver = (socketAddress: string | undefined, forwardedFor: string | string[] | undefined) => string;

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** One address in one spelling, so `::ffff:1.2.3.4` and `1.2.3.4` count as the same client. */
function canonical(address: string): string {
  return MAPPED_V4.exec(address)?.[1] ?? address;
}

/**
 * Why `value` is not a valid `trustProxy` setting, or `undefined` when it is. `true` is refused: it used
 * to mean "believe the left-most entry", which the client writes itself.
 */
export function trustProxyProblem(value: unknown): string | undefined {
  if (value === false) return undefined;
  if (value === true) {
    return 'true is no longer accepted (it trusted what the client wrote); name the proxies: a hop count (1 for one proxy) or their addresses/CIDRs';
  }
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? undefined : 'a hop count must be a non-negative integer';
  }
  if (!Array.isArray(value)) return 'expected false, a hop count or a list of proxy addresses/CIDRs';
  if (value.length === 0) return 'the list of trusted proxies is empty (use false to trust none)';
  for (const entry of value) {
    if (typeof entry !== 'string' || parseRange(entry) === undefined) return `"${String(entry)}" is not an IP address or CIDR range`;
  }
  return undefined;
}

function parseRange(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { address, prefix: Number(prefixText), family };
}

/** The hops of a request, farthest first: each `X-Forwarded-For` entry, then the socket's peer. */
function hopsOf(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string[] {
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const forwarded = header === '' ? [] : header.split(',').map((entry) => entry.trim());
  return [...forwarded, socketAddress ?? 'unknown'];
}

/**
 * Builds the resolver for a (validated) `trustProxy` setting. It walks the hops from the socket's peer
 * towards the client and stops at the first hop it does not trust, as Express and Fastify do; the
 * left-most entries, which the client can write, are only reached when every hop after them is trusted.
 * An entry that is not an IP address ends the walk at the hop that wrote it.
 */
export function createClientAddressResolver(trust: TrustProxy): ClientAddressResolver {
  if (trust === false || trust === 0) return (socketAddress) => canonical(socketAddress ?? 'unknown');
  let trusted: (address: string, index: number, hops: number) => boolean;
  if (typeof trust === 'number') {
    trusted = (_address, index, hops) => hops - 1 - index < trust;
  } else {
    const list = new BlockList();
    for (const entry of trust) {
      const range = parseRange(entry)!;
      list.addSubnet(range.address, range.prefix, range.family);
    }
    trusted = (address) => {
      const version = isIP(address);
      return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
    };
  }
  return (socketAddress, forwardedFor) => {
    const hops = hopsOf(socketAddress, forwardedFor).map(canonical);
    let index = hops.length - 1;
    while (index > 0 && trusted(hops[index]!, index, hops.length)) {
      if (isIP(hops[index - 1]!) === 0) break;
      index--;
    }
    return hops[index]!;
  };
}
