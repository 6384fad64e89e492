import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, TenantManager } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { connectGateway, createGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { createOpenClawRuntime, defaultRuntimeDir, deleteTenantUser, installOpenClawRuntime } from '@openclaw-mt/runtime-openclaw';
import { WebSocket } from 'ws';
import { type Benchmark, interleaved, pause, percentile, round } from './harness.js';

const HANDSHAKES = 1_000;
const WARMUP = 30;
/** Quiet time before each handshake, so background work of the previous one (socket teardown, the runtime's refill) settles for both sides alike. */
const GAP_MS = 20;
const TENANT = 'bench-tenant';
const SCOPES = ['operator.read', 'operator.write'];

/** The `connect` params both clients send: the bridge's own, so the cell does the same work either way. */
function connectParams(token: string, direct: boolean): Record<string, unknown> {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: direct
      ? { id: 'gateway-client', mode: 'backend', version: 'bench', platform: process.platform }
      : { id: 'bench', version: 'bench', platform: process.platform },
    role: 'operator',
    scopes: SCOPES,
    auth: { token },
  };
}

/** Milliseconds from opening a socket to receiving hello-ok. */
function handshake(url: string, params: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        event?: string;
        ok?: boolean;
        payload?: { type?: string };
        error?: { message?: string };
      };
      if (frame.type === 'event' && frame.event === 'connect.challenge') {
        socket.send(JSON.stringify({ type: 'req', id: 'c1', method: 'connect', params }));
      } else if (frame.type === 'res') {
        const elapsed = performance.now() - started;
        socket.close();
        if (frame.ok && frame.payload?.type === 'hello-ok') resolve(elapsed);
        else reject(new Error(`handshake refused: ${frame.error?.message ?? 'no hello-ok'}`));
      }
    });
    socket.on('error', reject);
    socket.on('close', (code) => reject(new Error(`closed before hello-ok (${code})`)));
  });
}

/** Connects through the front door, riding out the cell's cold start. */
async function firstConnect(url: string, token: string): Promise<GatewayConnection> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      return await connectGateway({ url, token, scopes: SCOPES, timeoutMs: 200_000 });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(1_000);
    }
  }
}

/** 8 — connect → hello-ok through the front door to a warm OpenClaw cell vs directly against the cell. */
export const openClawFrontDoor: Benchmark = {
  id: 8,
  title: 'Front door: connect → hello-ok to an OpenClaw cell',
  floor: "the same handshake directly against the tenant's warm OpenClaw cell (device-less backend client, loopback, the cell's own token)",
  async run() {
    const install = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-bench-openclaw-'));
    const logger = createLogger({ tag: 'openclaw', level: 1 });
    const manager = new TenantManager({ ...createFsAdapter({ dataDir }), idleTimeoutMs: 0 });
    const runtime = createOpenClawRuntime({ install, logger });
    const gateway = createGateway({
      manager,
      runtime,
      port: 0,
      handshakeTimeoutMs: 180_000,
      authRateLimit: { maxFailures: 1_000_000 },
      quotas: { connections: 1_000 },
      logger,
    });
    let first: GatewayConnection | undefined;
    try {
      const { url } = await gateway.listen();
      const { token } = await manager.tokens.create(TENANT);
      const coldStarted = performance.now();
      // Warms the cell (cold start) and keeps the tenant active, as a client with an open session does.
      first = await firstConnect(url, token);
      const coldMs = performance.now() - coldStarted;
      const cell = runtime.cellEndpoint(TENANT);
      if (cell === undefined) throw new Error('the cell is not ready after the first connect');
      const cellUrl = `ws://127.0.0.1:${cell.port}`;
      const ours = () => handshake(url, connectParams(token, false));
      const direct = () => handshake(cellUrl, connectParams(cell.token, true));
      for (let i = 0; i < WARMUP; i++) {
        await pause(GAP_MS);
        await ours();
        await pause(GAP_MS);
        await direct();
      }
      const sparesOf = () => runtime.cells().find((info) => info.tenantId === TENANT)?.spares;
      const sparesBefore = sparesOf();
      const { target: frontDoor, floor } = await interleaved(HANDSHAKES, GAP_MS, ours, direct);
      const spares = sparesOf();
      const added = percentile(frontDoor, 99) - percentile(floor, 99);
      return {
        figures: [
          { label: 'directly against the cell, p50', value: round(percentile(floor, 50), 3), unit: 'ms' },
          { label: 'directly against the cell, p99', value: round(percentile(floor, 99), 3), unit: 'ms' },
          { label: 'through the front door, p50', value: round(percentile(frontDoor, 50), 3), unit: 'ms' },
          { label: 'through the front door, p99', value: round(percentile(frontDoor, 99), 3), unit: 'ms' },
          { label: 'added p50', value: round(percentile(frontDoor, 50) - percentile(floor, 50), 3), unit: 'ms' },
          { label: 'cold start (first connect → hello-ok)', value: round(coldMs, 0), unit: 'ms' },
        ],
        ratio: round(added, 3),
        goal: { op: '<=', value: 1 },
        ratioMeaning: 'milliseconds the front door adds at p99 (front door p99 − direct p99)',
        notes: [
          `OpenClaw ${install.openclawVersion} on Node ${install.nodeVersion}; ${HANDSHAKES} sequential handshakes each after ${WARMUP} warm-up pairs, interleaved (alternating order, ${GAP_MS} ms apart), over loopback, scopes ${SCOPES.join(', ')}.`,
          'The tenant is active with one open session; its gateway token is cached. The direct client is what the bridge itself is to the cell: device-less, `gateway-client` in `backend` mode, with the cell’s private token.',
          spares === undefined
            ? 'Spare connections are off: every front-door handshake opened its own connection to the cell.'
            : `Spare connection: taken by ${spares.taken - (sparesBefore?.taken ?? 0)} of the ${HANDSHAKES} measured front-door handshakes; over the whole run (first connect and warm-up included) ${spares.taken} taken, ${spares.missed} missed, ${spares.opened} opened, ${spares.discarded} discarded.`,
        ],
      };
    } finally {
      first?.close();
      await gateway.close();
      if (runtime.osUsers) await deleteTenantUser(TENANT, join(dataDir, 'workspaces', tenantDirName(TENANT))).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
