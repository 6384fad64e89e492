import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCloudBackend } from '@openclaw-mt/core/cloud';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { connectGateway, createCloudPushRoute, createGateway } from '@openclaw-mt/gateway';
import { createCloudBackendServer } from '../examples/cloud-backend/src/index.js';
import { WebSocket, WebSocketServer } from 'ws';
import { type Benchmark, interleaved, pause, percentile, round } from './harness.js';

const RUNS = 30;
const RUNS_WITHOUT_PUSH = 20;
const SYNC_INTERVAL_MS = 1_000;
const PUSH_SECRET = 'bench-push-secret-0123456789-abcdefghij';
const SECRETS = {
  jwtSecret: 'bench-jwt-secret-0123456789-abcdefghijklmn',
  serviceToken: 'bench-service-token-0123456789',
  adminToken: 'bench-admin-token-0123456789',
};

/** A tiny JSON client for the reference backend's API. */
function api(base: string) {
  const call = async (method: string, path: string, bearer?: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, string>) : {} };
  };
  return {
    async register(email: string) {
      const password = 'correct horse battery staple';
      const signup = await call('POST', '/signup', undefined, { email, password });
      const login = await call('POST', '/login', undefined, { email, password });
      return { userId: signup.body.userId!, session: login.body.accessToken! };
    },
    async issue(session: string) {
      const issued = await call('POST', '/openclaw/gateway/token', session, {});
      return { token: issued.body.token!, tokenId: issued.body.tokenId! };
    },
    revoke: (session: string, tokenId: string) => call('DELETE', `/openclaw/gateway/tokens/${tokenId}`, session),
  };
}

/**
 * The floor: the same backend push to a bare receiver that closes a held WebSocket on any event, with no
 * signature check, validation, caches or manager behind it — the backend's work and the transport alone.
 */
async function bareReceiver(): Promise<{ pushUrl: string; wsUrl: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      for (const client of wss.clients) client.close(1008, 'token revoked');
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    pushUrl: `http://127.0.0.1:${port}/v1/cloud-events`,
    wsUrl: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A gateway on the reference backend: memory stores, the push route mounted, sync every `syncIntervalMs`. */
async function gatewayOn(backendUrl: string, syncIntervalMs: number) {
  const local = createMemoryAdapter();
  const cloud = createCloudBackend({
    url: backendUrl,
    serviceToken: SECRETS.serviceToken,
    lastKnownGood: local.configs,
    push: { secrets: [PUSH_SECRET] },
    syncIntervalMs,
  });
  const manager = new TenantManager({ tokens: cloud.tokens, configs: cloud.configs, workspaces: local.workspaces, idleTimeoutMs: 0 });
  const gateway = createGateway({ manager, port: 0, httpRoutes: [createCloudPushRoute({ receiver: cloud.push! })] });
  await cloud.attach(manager);
  const { url } = await gateway.listen();
  return { url, pushUrl: `${url.replace(/^ws/, 'http')}/v1/cloud-events`, close: () => gateway.close() };
}

/** 10 — from a revocation in the backend to the closed socket, through pushes. */
export const cloudRevocation: Benchmark = {
  id: 10,
  title: 'Backend-side revocation → open socket closed (signed push)',
  floor: "the backend's same push to a bare receiver that closes a WebSocket on any event",
  async run() {
    const backend = createCloudBackendServer({ database: ':memory:', ...SECRETS, push: { secrets: [PUSH_SECRET] }, logger: false });
    const backendUrl = await backend.listen(0);
    const client = api(backendUrl);
    const user = await client.register('bench@example.com');
    const pushed = await gatewayOn(backendUrl, 3_600_000);
    const floor = await bareReceiver();

    const throughGateway = async () => {
      backend.push!.setTargets([pushed.pushUrl]);
      const { token, tokenId } = await client.issue(user.session);
      const connection = await connectGateway({ url: pushed.url, token });
      const started = performance.now();
      await client.revoke(user.session, tokenId);
      const closed = await connection.closed;
      if (closed.code !== 1008) throw new Error(`expected close 1008, got ${closed.code}`);
      return performance.now() - started;
    };
    const bare = async () => {
      backend.push!.setTargets([floor.pushUrl]);
      const { tokenId } = await client.issue(user.session);
      const socket = new WebSocket(floor.wsUrl, { perMessageDeflate: false });
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const started = performance.now();
      await client.revoke(user.session, tokenId);
      await closed;
      return performance.now() - started;
    };
    const timings = await interleaved(RUNS, 20, throughGateway, bare);
    await backend.push!.idle();

    // Without pushes the same revocation arrives with the next sync: within one interval.
    backend.push!.setTargets([]);
    const polled = await gatewayOn(backendUrl, SYNC_INTERVAL_MS);
    const withoutPush: number[] = [];
    for (let i = 0; i < RUNS_WITHOUT_PUSH; i++) {
      const { token, tokenId } = await client.issue(user.session);
      const connection = await connectGateway({ url: polled.url, token });
      // Revocations land at random points of the interval, as they would in production.
      await pause(Math.floor(Math.random() * SYNC_INTERVAL_MS));
      const started = performance.now();
      await client.revoke(user.session, tokenId);
      await connection.closed;
      withoutPush.push(performance.now() - started);
    }

    await polled.close();
    await pushed.close();
    await floor.close();
    await backend.close();
    const p = (values: number[], n: number) => round(percentile(values, n), 1);
    const p99 = p(timings.target, 99);
    return {
      figures: [
        { label: 'floor p50 (backend push → bare receiver closes a socket)', value: p(timings.floor, 50), unit: 'ms' },
        { label: 'floor p99', value: p(timings.floor, 99), unit: 'ms' },
        { label: `revocation → socket closed, with push, p50 (${RUNS} runs)`, value: p(timings.target, 50), unit: 'ms' },
        { label: 'revocation → socket closed, with push, p99', value: p99, unit: 'ms' },
        {
          label: `without push (sync every ${SYNC_INTERVAL_MS} ms), p50 (${RUNS_WITHOUT_PUSH} runs)`,
          value: p(withoutPush, 50),
          unit: 'ms',
        },
        { label: 'without push, p99', value: p(withoutPush, 99), unit: 'ms' },
      ],
      ratio: round(percentile(timings.target, 99) / percentile(timings.floor, 99), 2),
      goal: { op: '<=', value: 3 },
      ratioMeaning: 'p99 revocation → close through the gateway / p99 of the floor, interleaved runs',
      notes: [
        `The absolute goal is p99 ≤ 1,000 ms with pushes: ${p99 <= 1_000 ? 'met' : 'NOT met'} (${p99} ms).`,
        'Both sides include the backend committing the revocation and signing and sending the push; the gateway adds',
        'the signature check, validation, the token store, the manager hook and the socket registry.',
        `Without pushes the close waits for the next sync, so it is bounded by the interval (${SYNC_INTERVAL_MS} ms here, 60 s by default).`,
      ],
    };
  },
};
