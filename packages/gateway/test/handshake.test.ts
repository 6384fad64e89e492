import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { createToken } from '@openclaw-mt/core/tokens';
import { connectGateway, type ErrorShape } from '@openclaw-mt/gateway';
import type { Frame } from '@openclaw-mt/gateway/protocol';
import { startGateway } from './support/harness.js';
import { failureOf } from './support/request-failure.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function setup(options: Parameters<typeof startGateway>[0] = {}) {
  const started = await startGateway(options);
  stops.push(started.stop);
  return started;
}

/** Raw socket: returns every frame received and the close code. */
function raw(url: string, send: (socket: WebSocket, frames: unknown[]) => void, headers?: Record<string, string>) {
  return new Promise<{ frames: Frame[]; code: number }>((resolve) => {
    const socket = new WebSocket(url, { headers });
    const frames: Frame[] = [];
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      frames.push(frame);
      if (frame.type === 'event' && frame.event === 'connect.challenge') send(socket, frames);
    });
    socket.on('close', (code) => resolve({ frames, code }));
    socket.on('error', () => undefined);
  });
}

/** The error of the last frame received, when it is a failed response. */
function lastError(frames: Frame[]): ErrorShape | undefined {
  const frame = frames.at(-1);
  return frame?.type === 'res' && !frame.ok ? frame.error : undefined;
}

describe('handshake', () => {
  test('challenge → connect with a gateway token → hello-ok bound to the tenant', async () => {
    const { manager, url } = await setup();
    const { token } = await manager.tokens.create('alice');
    const connection = await connectGateway({ url, token });
    expect(connection.hello).toMatchObject({
      type: 'hello-ok',
      protocol: 4,
      snapshot: { tenantId: 'alice', runtime: 'workspace' },
      features: { methods: expect.arrayContaining(['chat.send', 'workspace.read']) },
      policy: { maxPayload: expect.any(Number), tickIntervalMs: expect.any(Number) },
    });
    expect(manager.activeTenants()).toEqual([expect.objectContaining({ tenantId: 'alice', pins: 1 })]);
    connection.close();
    await connection.closed;
  });

  test('the token may come as Authorization: Bearer on the upgrade request', async () => {
    const { manager, url } = await setup();
    const { token } = await manager.tokens.create('bob');
    const connection = await connectGateway({ url, token, tokenInHeader: true });
    expect(connection.hello.snapshot).toMatchObject({ tenantId: 'bob' });
    connection.close();
  });

  test('a header and a frame naming different tokens are refused', async () => {
    const { manager, url } = await setup();
    const a = await manager.tokens.create('a');
    const b = await manager.tokens.create('b');
    const result = await raw(
      url,
      (socket) =>
        socket.send(
          JSON.stringify({ type: 'req', id: '1', method: 'connect', params: { minProtocol: 4, maxProtocol: 4, auth: { token: b.token } } }),
        ),
      { authorization: `Bearer ${a.token}` },
    );
    expect(result.code).toBe(1008);
    expect(lastError(result.frames)?.details?.code).toBe('BAD_REQUEST');
    expect(manager.stats().resident).toBe(0);
  });

  test('bad, forged, unknown and missing tokens get a coded error and close 1008, touching no tenant', async () => {
    const { manager, url } = await setup();
    const { token } = await manager.tokens.create('carol');
    const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'TOKEN_MALFORMED'],
      ['not-a-token', 'TOKEN_MALFORMED'],
      [forged, 'TOKEN_MALFORMED'],
      [createToken(), 'TOKEN_UNKNOWN'],
    ];
    for (const [candidate, code] of cases) {
      const error = await failureOf(connectGateway({ url, ...(candidate === undefined ? {} : { token: candidate }) }));
      expect(error.code).toBe(code);
      expect(error.closeCode).toBe(1008);
      expect(JSON.stringify(error.shape)).not.toContain(token.slice(3));
    }
    expect(manager.stats().resident).toBe(0);
  });

  test("OpenClaw's Control UI gets OpenClaw's own codes for a refused sign-in, openclaw-mt's beside them", async () => {
    const { manager, url } = await setup();
    const { token } = await manager.tokens.create('dana');
    await manager.tokens.revoke(token);
    const ui = { id: 'openclaw-control-ui', mode: 'webchat' };
    const cases: Array<[string | undefined, string, string]> = [
      [undefined, 'AUTH_TOKEN_MISSING', 'TOKEN_MALFORMED'],
      ['not-a-token', 'AUTH_TOKEN_MISMATCH', 'TOKEN_MALFORMED'],
      [createToken(), 'AUTH_TOKEN_MISMATCH', 'TOKEN_UNKNOWN'],
      [token, 'AUTH_TOKEN_MISMATCH', 'TOKEN_REVOKED'],
    ];
    for (const [candidate, code, gatewayCode] of cases) {
      const error = await failureOf(connectGateway({ url, client: ui, ...(candidate === undefined ? {} : { token: candidate }) }));
      expect(error.shape).toMatchObject({ code: 'INVALID_REQUEST', details: { code, gatewayCode } });
      expect(error.closeCode).toBe(1008);
    }
    // Any other client keeps openclaw-mt's code where it always is.
    expect((await failureOf(connectGateway({ url, token: createToken() }))).shape.details).toEqual({ code: 'TOKEN_UNKNOWN' });
  });

  test('a frame before connect, a malformed first frame and an oversized first frame are refused and closed', async () => {
    const { manager, url } = await setup();
    const notConnect = await raw(url, (socket) =>
      socket.send(JSON.stringify({ type: 'req', id: '1', method: 'chat.send', params: { message: 'hi' } })),
    );
    expect(notConnect.code).toBe(1008);
    expect(notConnect.frames.at(-1)).toMatchObject({ type: 'res', id: '1', ok: false, error: { details: { code: 'BAD_REQUEST' } } });
    const malformed = await raw(url, (socket) => socket.send('{"type":"req",'));
    expect(malformed.code).toBe(1008);
    expect(lastError(malformed.frames)?.details?.code).toBe('BAD_REQUEST');
    const badParams = await raw(url, (socket) =>
      socket.send(JSON.stringify({ type: 'req', id: '2', method: 'connect', params: { minProtocol: 'x' } })),
    );
    expect(badParams.code).toBe(1008);
    const oversized = await raw(url, (socket) =>
      socket.send(JSON.stringify({ type: 'req', id: '3', method: 'connect', params: { pad: 'x'.repeat(70 * 1024) } })),
    );
    expect(oversized.code).toBe(1009);
    const binary = await raw(url, (socket) => socket.send(Buffer.from([1, 2, 3])));
    expect(binary.code).toBe(1008);
    expect(manager.stats().resident).toBe(0);
  });

  test('a protocol range the gateway does not speak is refused', async () => {
    const { manager, url } = await setup();
    const { token } = await manager.tokens.create('dan');
    const result = await raw(url, (socket) =>
      socket.send(JSON.stringify({ type: 'req', id: '1', method: 'connect', params: { minProtocol: 9, maxProtocol: 9, auth: { token } } })),
    );
    expect(lastError(result.frames)?.details).toMatchObject({ code: 'BAD_REQUEST', reason: 'protocol-mismatch' });
    expect(result.code).toBe(1008);
  });

  test('a client that never sends connect is closed after the handshake timeout', async () => {
    const { url } = await setup({ gateway: { handshakeTimeoutMs: 100 } });
    const result = await raw(url, () => undefined);
    expect(result.code).toBe(1008);
  });

  test('repeated failures lock the address out of verdicts; a valid token from it is still admitted', async () => {
    const { manager, url } = await setup({ gateway: { authRateLimit: { maxFailures: 3, windowMs: 60_000, lockoutMs: 60_000 } } });
    const { token } = await manager.tokens.create('erin');
    for (let i = 0; i < 3; i++) expect((await failureOf(connectGateway({ url, token: createToken() }))).code).toBe('TOKEN_UNKNOWN');
    const locked = await failureOf(connectGateway({ url, token: createToken() }));
    expect(locked.code).toBe('RATE_LIMITED');
    expect(locked.shape.retryAfterMs).toBeGreaterThan(0);
    expect(locked.shape.message).toMatch(/try again in \d+ s/);
    const admitted = await connectGateway({ url, token });
    expect(admitted.hello.snapshot).toMatchObject({ tenantId: 'erin' });
    admitted.close();
  });
});
