import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConnectParams, verifyDeviceIdentity } from '@openclaw-mt/gateway/protocol';
import { WebSocketServer } from 'ws';
import { createBridgeDevice, loadBridgeDevice } from '../src/bridge/bridge-device.js';
import { CellConnection } from '../src/bridge/cell-connection.js';

// The front door's device identity towards a cell: every connect it makes is signed over that
// connection's challenge the way OpenClaw checks it (the same check the front door applies to its
// own clients), so a cell pairs it as a local device.

const TOKEN = 'cell-private-token';

/** A cell's side of the handshake that checks a signed device against its own nonce, and records the connect. */
async function checkingCell() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const seen: Array<{ device?: { id: string }; verified: boolean; problem?: string }> = [];
  wss.on('connection', (socket) => {
    const nonce = randomBytes(16).toString('hex');
    socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce, ts: Date.now() } }));
    socket.once('message', (data) => {
      const frame = JSON.parse(data.toString()) as { id: string; params: Record<string, unknown> };
      const params = parseConnectParams(frame.params);
      let problem: string | undefined;
      try {
        verifyDeviceIdentity(params, nonce);
      } catch (error) {
        problem = (error as Error).message;
      }
      const device = (frame.params.device as { id: string } | undefined) ?? undefined;
      seen.push({ ...(device === undefined ? {} : { device }), verified: problem === undefined, ...(problem ? { problem } : {}) });
      socket.send(
        JSON.stringify({
          type: 'res',
          id: frame.id,
          ok: true,
          payload: {
            type: 'hello-ok',
            protocol: 4,
            features: { methods: [], events: [] },
            auth: { role: 'operator', scopes: params.scopes },
          },
        }),
      );
    });
  });
  return { port: (wss.address() as AddressInfo).port, seen, close: () => new Promise<void>((resolve) => wss.close(() => resolve())) };
}

describe('the front door’s device identity towards cells', () => {
  let cell: Awaited<ReturnType<typeof checkingCell>> | undefined;
  afterEach(async () => {
    await cell?.close();
    cell = undefined;
  });

  it('signs each connect over that connection’s challenge, with the scopes it asks for', async () => {
    cell = await checkingCell();
    const device = createBridgeDevice();
    expect(device.id).toMatch(/^[0-9a-f]{64}$/);
    for (const scopes of [['operator.read'], ['operator.read', 'operator.write', 'operator.approvals']]) {
      const connection = await CellConnection.open({ port: cell.port, token: TOKEN, scopes, clientVersion: 't', device, timeoutMs: 5_000 });
      connection.close();
    }
    expect(cell.seen).toEqual([
      { device: expect.objectContaining({ id: device.id }), verified: true },
      { device: expect.objectContaining({ id: device.id }), verified: true },
    ]);
  });

  it('connects without a device when it has none', async () => {
    cell = await checkingCell();
    const connection = await CellConnection.open({
      port: cell.port,
      token: TOKEN,
      scopes: ['operator.read'],
      clientVersion: 't',
      timeoutMs: 5_000,
    });
    connection.close();
    expect(cell.seen).toEqual([{ verified: true }]);
  });

  it('makes a different identity each time', () => {
    expect(createBridgeDevice().id).not.toBe(createBridgeDevice().id);
  });
});

describe('the device identity kept in a file', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('is made once, operator-only, and is the same identity on every later start', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocmt-device-'));
    const path = join(dir, 'state', 'device.pem');
    const [first, racing] = await Promise.all([loadBridgeDevice(path), loadBridgeDevice(path)]);
    expect(racing.id).toBe(first.id);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'state'))).mode & 0o777).toBe(0o700);
    const again = await loadBridgeDevice(path);
    expect(again.id).toBe(first.id);
    // The reloaded key signs as the first one did: a cell that paired the first accepts the second.
    const cell = await checkingCell();
    try {
      const connection = await CellConnection.open({
        port: cell.port,
        token: TOKEN,
        scopes: ['operator.read'],
        clientVersion: 't',
        device: again,
        timeoutMs: 5_000,
      });
      connection.close();
      expect(cell.seen).toEqual([{ device: expect.objectContaining({ id: first.id }), verified: true }]);
    } finally {
      await cell.close();
    }
  });

  it('refuses a file that holds no Ed25519 key, and leaves it as it was', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocmt-device-'));
    const path = join(dir, 'device.pem');
    await writeFile(path, 'not a key\n', { mode: 0o600 });
    await expect(loadBridgeDevice(path)).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { reason: 'bridge-device-key' } });
    expect(await readFile(path, 'utf8')).toBe('not a key\n');
  });
});
