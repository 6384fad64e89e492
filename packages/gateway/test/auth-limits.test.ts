import { afterEach, describe, expect, test } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { isMultiTenantError } from '@openclaw-mt/core';
import { connectGateway, type HttpRoute } from '@openclaw-mt/gateway';
import { handshake, upgradeRequest } from './support/raw-connect.js';
import { startGateway } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const LIMIT = 10;
// The pre-auth socket cap is raised so every guess reaches the limiter at once.
const limits = {
  authRateLimit: { maxFailures: LIMIT, windowMs: 60_000, lockoutMs: 60_000 },
  preAuth: { maxSocketsPerAddress: 5_000, maxSockets: 5_000 },
};

async function setup() {
  const started = await startGateway({ gateway: limits });
  stops.push(started.stop);
  return started;
}

const VERDICTS = new Set(['TOKEN_UNKNOWN', 'TOKEN_MALFORMED', 'TOKEN_REVOKED', 'TOKEN_EXPIRED', 'TENANT_SUSPENDED', 'TENANT_UNKNOWN']);
const verdicts = (outcomes: string[]) => outcomes.filter((outcome) => VERDICTS.has(outcome)).length;

describe('brute-force limits', () => {
  test('200 simultaneous guesses from one address: at most the limit get a verdict, the rest RATE_LIMITED', async () => {
    const { url } = await setup();
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => handshake(url, createToken())));
    expect(verdicts(outcomes)).toBeLessThanOrEqual(LIMIT);
    expect(outcomes.filter((outcome) => outcome === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(200 - LIMIT);
  });

  test('1,000 guesses interleaved with the guesser’s own valid logins: at most the limit answered; a neighbour still gets in', async () => {
    const { manager, url } = await setup();
    const own = (await manager.tokens.create('guesser')).token;
    const neighbour = (await manager.tokens.create('neighbour')).token;
    const outcomes: string[] = [];
    const logins: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const guesses = Array.from({ length: 100 }, () => handshake(url, createToken()));
      const valid = Array.from({ length: 3 }, () => handshake(url, own));
      outcomes.push(...(await Promise.all(guesses)));
      logins.push(...(await Promise.all(valid)));
    }
    expect(verdicts(outcomes)).toBeLessThanOrEqual(LIMIT);
    expect(logins.every((outcome) => outcome === 'ok')).toBe(true);
    expect(await handshake(url, neighbour)).toBe('ok');
  });

  test('a success does not clear earlier failures', async () => {
    const { manager, url } = await setup();
    const own = (await manager.tokens.create('resetter')).token;
    for (let i = 0; i < LIMIT - 1; i++) expect(await handshake(url, createToken())).toBe('TOKEN_UNKNOWN');
    expect(await handshake(url, own)).toBe('ok');
    expect(await handshake(url, createToken())).toBe('TOKEN_UNKNOWN');
    expect(await handshake(url, createToken())).toBe('RATE_LIMITED');
  });

  test('a revoked client that keeps reconnecting locks out only itself; HTTP 429 says how long', async () => {
    const { manager, url } = await setup();
    const revoked = (await manager.tokens.create('gone')).token;
    await manager.tokens.revoke(revoked);
    const neighbour = (await manager.tokens.create('behind-nat')).token;
    const outcomes: string[] = [];
    for (let i = 0; i < 30; i++) outcomes.push(await handshake(url, revoked, { authorization: `Bearer ${revoked}` }));
    expect(verdicts(outcomes)).toBe(LIMIT);
    expect(outcomes.slice(LIMIT).every((outcome) => outcome === 'HTTP 429')).toBe(true);
    const refusal = await upgradeRequest(url, { authorization: `Bearer ${revoked}` });
    expect(refusal.status).toBe(429);
    const seconds = Number(refusal.headers['retry-after']);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    const body = JSON.parse(refusal.body) as { error: { details: { code: string }; message: string; retryAfterMs: number } };
    expect(body.error.details.code).toBe('RATE_LIMITED');
    expect(body.error.message).toContain(`try again in ${seconds} s`);
    expect(Math.ceil(body.error.retryAfterMs / 1000)).toBe(seconds);
    // Someone else behind the same address is not locked out.
    const other = await connectGateway({ url, token: neighbour });
    expect(other.hello.snapshot).toMatchObject({ tenantId: 'behind-nat' });
    other.close();
  });

  test('a token checked by an extra HTTP route counts against the same limit as WebSocket logins', async () => {
    // A route that signs a request in with the gateway's own check (as the Control UI's settings endpoint does).
    const whoAmI: HttpRoute = (request, response, context) => {
      if (request.url !== '/whoami') return false;
      const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      context.authenticate(bearer).then(
        (auth) => response.end(auth.tenantId),
        (error: unknown) => {
          response.statusCode = 400;
          response.end(isMultiTenantError(error) ? error.code : 'INTERNAL');
        },
      );
      return true;
    };
    const { manager, url, stop } = await startGateway({ gateway: { ...limits, httpRoutes: [whoAmI] } });
    stops.push(stop);
    const base = url.replace(/^ws/, 'http');
    const own = (await manager.tokens.create('web-user')).token;
    const ask = async (token: string) => (await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(await ask(own)).toBe('web-user');
    for (let i = 0; i < LIMIT - 1; i++) expect(await ask(createToken())).toBe('TOKEN_UNKNOWN');
    // The last answer goes to a WebSocket guess; after it, both doors say only "wait".
    expect(await handshake(url, createToken())).toBe('TOKEN_UNKNOWN');
    expect(await ask(createToken())).toBe('RATE_LIMITED');
    expect(await handshake(url, createToken())).toBe('RATE_LIMITED');
  });
});
