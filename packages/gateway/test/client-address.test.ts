import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { createMemoryAdapter, isMultiTenantError, TenantManager } from '@openclaw-mt/core';
import { createClientAddressResolver } from '../src/http/client-address.js';
import { createGateway, type TrustProxy } from '@openclaw-mt/gateway';
import { parseGatewaySettings } from '@openclaw-mt/gateway/config';
import { handshake } from './support/raw-connect.js';
import { startGateway } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));
/** Whatever a client may write into X-Forwarded-For before the proxies append to it. */
const spoofed = fc.array(fc.oneof(ipv4, fc.constantFrom('127.0.0.1', '::1', 'unknown', '', '10.0.0.1')), { maxLength: 5 });

describe('client address behind proxies', () => {
  test('with N trusted hops, the address is the one the farthest trusted proxy saw, whatever the client wrote', () => {
    fc.assert(
      fc.property(spoofed, ipv4, fc.array(ipv4, { minLength: 1, maxLength: 4 }), (forged, client, proxies) => {
        // proxies[0] is nearest the client; the last one connects to the gateway.
        const resolve = createClientAddressResolver(proxies.length);
        const header = [...forged, client, ...proxies.slice(0, -1)].join(', ');
        expect(resolve(proxies.at(-1), header)).toBe(client);
      }),
    );
  });

  test('with trusted CIDRs, the right-most untrusted address wins; left-most entries are never believed', () => {
    fc.assert(
      fc.property(spoofed, ipv4, fc.array(fc.nat(255), { minLength: 1, maxLength: 4 }), (forged, client, hosts) => {
        fc.pre(!client.startsWith('10.'));
        const proxies = hosts.map((host) => `10.1.2.${host}`);
        const resolve = createClientAddressResolver(['10.0.0.0/8', '::1']);
        const header = [...forged, client, ...proxies.slice(0, -1)].join(',');
        expect(resolve(`::ffff:${proxies.at(-1)}`, header)).toBe(client);
      }),
    );
  });

  test('untrusted peers are the client: X-Forwarded-For is ignored without trust or from an unlisted peer', () => {
    fc.assert(
      fc.property(spoofed, ipv4, (forged, peer) => {
        fc.pre(!peer.startsWith('10.'));
        const header = forged.join(',');
        expect(createClientAddressResolver(false)(peer, header)).toBe(peer);
        expect(createClientAddressResolver(['10.0.0.0/8'])(peer, header)).toBe(peer);
      }),
    );
  });

  test('an entry that is not an address ends the walk at the hop that wrote it', () => {
    expect(createClientAddressResolver(2)('10.0.0.2', 'evil, not-an-ip, 10.0.0.1')).toBe('10.0.0.1');
    expect(createClientAddressResolver(5)('10.0.0.2', '1.2.3.4, 10.0.0.1')).toBe('1.2.3.4');
  });

  test('settings: true, negative counts and bad CIDRs are refused with CONFIG_INVALID naming trustProxy', () => {
    for (const bad of [true, -1, 1.5, [], ['10.0.0.0/33'], ['nope'], 'yes'] as unknown[]) {
      let error: unknown;
      try {
        parseGatewaySettings({ trustProxy: bad });
      } catch (caught) {
        error = caught;
      }
      expect(isMultiTenantError(error, 'CONFIG_INVALID'), JSON.stringify(bad)).toBe(true);
      expect((error as Error).message).toContain('multiTenant.gateway.trustProxy');
    }
    expect(() => createGateway({ manager: new TenantManager(createMemoryAdapter()), trustProxy: true as unknown as TrustProxy })).toThrow(
      /trustProxy: true is no longer accepted/,
    );
    expect(parseGatewaySettings({ trustProxy: 1 }).trustProxy).toBe(1);
    expect(parseGatewaySettings({ trustProxy: ['10.0.0.0/8', '::1', '192.168.1.7'] }).trustProxy).toHaveLength(3);
  });

  test('over the wire: a spoofed X-Forwarded-For does not escape the lockout behind one trusted proxy', async () => {
    const started = await startGateway({ gateway: { trustProxy: 1, authRateLimit: { maxFailures: 3 } } });
    stops.push(started.stop);
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      // The client forges a fresh left-most address each time; the proxy appends the real one.
      outcomes.push(await handshake(started.url, createToken(), { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7` }));
    }
    expect(outcomes.filter((outcome) => outcome === 'TOKEN_UNKNOWN')).toHaveLength(3);
    expect(outcomes.slice(3).every((outcome) => outcome === 'RATE_LIMITED')).toBe(true);
    // Another real client behind the same proxy has its own count.
    expect(await handshake(started.url, createToken(), { 'x-forwarded-for': '198.51.100.8' })).toBe('TOKEN_UNKNOWN');
  });
});
