import { createServer } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createToken } from '@openclaw-mt/core/tokens';
import { connectGateway } from '@openclaw-mt/gateway';
import { startGateway } from './support/harness.js';
import { failureOf } from './support/request-failure.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('connectGateway says why it could not connect', () => {
  test('nothing listening: a retryable BACKEND_UNAVAILABLE naming the URL without its credentials or query', async () => {
    const port = await freePort();
    const failure = await failureOf(connectGateway({ url: `ws://someone:secret@127.0.0.1:${port}/ws?token=abc`, token: createToken() }));
    expect(failure.code).toBe('BACKEND_UNAVAILABLE');
    expect(failure.shape.retryable).toBe(true);
    expect(failure.shape.details?.reason).toBe('ECONNREFUSED');
    expect(failure.message).toBe(`Nothing is listening at ws://127.0.0.1:${port}/ws.`);
  });

  test('an upgrade refused with 429: the status, the code and the wait from the gateway’s answer', async () => {
    const lockoutMs = 4 * 60_000;
    const started = await startGateway({ gateway: { authRateLimit: { maxFailures: 3, windowMs: 60_000, lockoutMs } } });
    stops.push(started.stop);
    const token = createToken();
    for (let i = 0; i < 3; i++)
      expect((await failureOf(connectGateway({ url: started.url, token, tokenInHeader: true }))).code).toBe('TOKEN_UNKNOWN');
    const failure = await failureOf(connectGateway({ url: started.url, token, tokenInHeader: true }));
    expect(failure.status).toBe(429);
    expect(failure.code).toBe('RATE_LIMITED');
    expect(failure.shape.retryable).toBe(true);
    expect(failure.shape.details).toMatchObject({ reason: 'auth-lockout', status: 429 });
    expect(failure.retryAfterMs).toBeGreaterThan(lockoutMs - 60_000);
    expect(failure.retryAfterMs).toBeLessThanOrEqual(lockoutMs);
    expect(failure.message).toContain('try again in');
  });
});
