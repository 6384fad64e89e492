import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CellListener, CellState } from '../src/cell/cell.js';
import { CellSpares, type SpareCell, type SpareProfile, type SpareSettings } from '../src/bridge/cell-spares.js';
import { eventually } from './support/harness.js';

// The spare connection of one cell, against a minimal Gateway-protocol server and a stand-in cell
// whose state and process identity the tests control. The bridge's use of it, through the front
// door and a fake `openclaw`, is in runtime.test.ts.

const quiet = createLogger({ level: Number(process.env.TEST_LOG_LEVEL ?? 0) });
const READ_WRITE: SpareProfile = { scopes: ['operator.read', 'operator.write'] };
const ADMIN: SpareProfile = { scopes: ['operator.read', 'operator.write', 'operator.admin'] };

/** A server doing the cell's side of the handshake; counts connections and hands out numbered hellos. */
async function cellServer(options: { helloDelayMs?: number; starting?: () => boolean } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const server = {
    port: (wss.address() as AddressInfo).port,
    tokens: new Set(['token-1']),
    connections: 0,
    open: new Set<WebSocket>(),
    authenticated: [] as Array<{ socket: WebSocket; scopes: string[]; n: number }>,
    /** Sends an event to every authenticated socket still open. */
    broadcast(event: string) {
      for (const { socket } of server.authenticated)
        if (server.open.has(socket)) socket.send(JSON.stringify({ type: 'event', event, payload: {} }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on('connection', (socket) => {
    const n = ++server.connections;
    server.open.add(socket);
    socket.on('close', () => server.open.delete(socket));
    socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n' } }));
    let authed = false;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { id: string; method: string; params: { auth?: { token?: string }; scopes?: string[] } };
      if (!authed) {
        if (!server.tokens.has(frame.params.auth?.token ?? '')) {
          socket.send(
            JSON.stringify({ type: 'res', id: frame.id, ok: false, error: { code: 'INVALID_REQUEST', message: 'unauthorized' } }),
          );
          return socket.close(1008);
        }
        if (options.starting?.()) {
          // OpenClaw's answer while its startup sidecars run, here asking for a retry in a minute.
          const error = {
            code: 'UNAVAILABLE',
            message: 'starting',
            retryable: true,
            retryAfterMs: 60_000,
            details: { reason: 'startup-sidecars' },
          };
          socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: false, error }));
          return socket.close(1013);
        }
        authed = true;
        const scopes = frame.params.scopes ?? [];
        const hello = () => {
          if (socket.readyState !== socket.OPEN) return;
          server.authenticated.push({ socket, scopes, n });
          socket.send(
            JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { type: 'hello-ok', n, auth: { role: 'operator', scopes } } }),
          );
        };
        if (options.helloDelayMs === undefined) hello();
        else setTimeout(hello, options.helloDelayMs);
        return;
      }
      socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { method: frame.method, n } }));
    });
  });
  return server;
}

/** A cell whose state and current process (port, token) the test sets. */
class StubCell implements SpareCell {
  readonly tenantId = 'alice';
  state: CellState = 'starting';
  private readonly stateListeners = new Set<(state: CellState) => void>();
  private readonly lostListeners = new Set<CellListener>();
  /** Whether the process said it takes connections; {@link announce} says it. */
  accepting = true;
  private announced: () => void = () => undefined;
  private readonly announcement = new Promise<void>((resolve) => (this.announced = resolve));
  constructor(public run: { port: number; token: string }) {}
  whenAccepting() {
    return this.announcement;
  }
  announce() {
    this.accepting = true;
    this.announced();
  }
  get endpoint() {
    return this.state === 'ready' ? { ...this.run } : undefined;
  }
  onStateChange(listener: (state: CellState) => void) {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }
  attach(listener: CellListener) {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }
  set(state: CellState) {
    this.state = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }
  /** The process went away. */
  lose() {
    for (const listener of [...this.lostListeners]) listener.cellLost('gone');
    this.lostListeners.clear();
  }
}

const never = new AbortController().signal;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cell spares', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(options: { helloDelayMs?: number; starting?: () => boolean; settings?: Partial<SpareSettings> } = {}) {
    const server = await cellServer(options);
    const cell = new StubCell({ port: server.port, token: 'token-1' });
    const spares = new CellSpares(cell, { clientVersion: 'test', initialProfile: READ_WRITE, log: quiet, ...options.settings });
    cleanups.push(
      () => server.close(),
      () => spares.close(),
    );
    return { server, cell, spares };
  }

  it('opens a spare once the cell is ready, hands it over once, and opens the next one', async () => {
    const { server, cell, spares } = await setup();
    await pause(50);
    expect(server.connections).toBe(0);
    cell.set('ready');
    await eventually(() => spares.info().ready, 'the first spare', 5_000, 10);
    expect(server.authenticated.map(({ scopes }) => scopes)).toEqual([READ_WRITE.scopes]);

    const taken = (await spares.take(READ_WRITE, never))!;
    expect(taken.hello).toMatchObject({ n: 1, auth: { scopes: READ_WRITE.scopes } });
    expect(spares.info()).toMatchObject({ ready: false, taken: 1, missed: 0 });
    await eventually(() => spares.info().ready, 'the next spare', 5_000, 10);
    expect(spares.info()).toMatchObject({ opened: 2, taken: 1, discarded: 0 });
    // The taken connection is the caller's now, and works.
    expect(await taken.request('echo', {})).toEqual({ ok: true, payload: { method: 'echo', n: 1 } });
    const next = (await spares.take(READ_WRITE, never))!;
    expect(next.hello).toMatchObject({ n: 2 });
    taken.close();
    next.close();
  });

  it('misses when the client asks for something else, and the next spare follows that client', async () => {
    const { server, cell, spares } = await setup();
    cell.set('ready');
    await eventually(() => spares.info().ready, 'the first spare', 5_000, 10);
    expect(await spares.take(ADMIN, never)).toBeUndefined();
    expect(await spares.take({ ...READ_WRITE, caps: ['tool-events'] }, never)).toBeUndefined();
    expect(await spares.take({ ...READ_WRITE, userAgent: 'other' }, never)).toBeUndefined();
    expect(await spares.take(ADMIN, never)).toBeUndefined();
    expect(spares.info()).toMatchObject({ taken: 0, missed: 4 });
    await eventually(() => spares.info().ready, 'a spare for the admin profile', 5_000, 10);
    const taken = (await spares.take(ADMIN, never))!;
    expect(taken.hello).toMatchObject({ auth: { scopes: ADMIN.scopes } });
    // Each profile change closed what was there; nothing else stays open.
    await eventually(() => server.open.size === 2, 'the taken connection and the next spare only', 5_000, 10);
    taken.close();
  });

  it('never hands out a spare of a process that is gone, restarted, or dropped it', async () => {
    const { server, cell, spares } = await setup();
    cell.set('ready');
    await eventually(() => spares.info().ready, 'the first spare', 5_000, 10);

    // A new process (new token) while the old spare's socket still looks open.
    server.tokens.add('token-2');
    cell.run = { port: server.port, token: 'token-2' };
    expect(await spares.take(READ_WRITE, never)).toBeUndefined();
    expect(spares.info().discarded).toBe(1);
    await eventually(() => spares.info().ready, 'a spare of the new process', 5_000, 10);

    // The process is gone (its exit seen before any socket close).
    cell.lose();
    expect(await spares.take(READ_WRITE, never)).toBeUndefined();
    expect(spares.info().discarded).toBe(2);

    // Another connection to the cell was dropped: the spare is presumed to go the same way.
    cell.set('starting');
    cell.set('ready');
    await eventually(() => spares.info().ready, 'a spare after the restart', 5_000, 10);
    spares.connectionLost();
    expect(await spares.take(READ_WRITE, never)).toBeUndefined();
    await eventually(() => spares.info().ready, 'a spare after the lost connection', 5_000, 10);

    // The cell drops the spare itself (an in-place restart): replaced, not handed out.
    const before = spares.info();
    for (const socket of server.open) socket.close(1012, 'service restart');
    await eventually(() => spares.info().discarded > before.discarded, 'the dropped spare to be discarded', 5_000, 10);
    await eventually(() => spares.info().ready, 'a spare after the in-place restart', 5_000, 10);
    const taken = (await spares.take(READ_WRITE, never))!;
    expect(taken.open).toBe(true);
    expect(await taken.request('echo', {})).toMatchObject({ ok: true });
    taken.close();

    // Leaving `ready` closes the spare at once.
    await eventually(() => spares.info().ready, 'the next spare', 5_000, 10);
    cell.set('stopping');
    expect(spares.info().ready).toBe(false);
    await eventually(() => server.open.size === 0, 'no connection left', 5_000, 10);
  });

  it('replaces a spare that saw an event changing the hello, and keeps it through other events', async () => {
    const { server, cell, spares } = await setup();
    cell.set('ready');
    await eventually(() => spares.info().ready, 'the first spare', 5_000, 10);
    for (const event of ['tick', 'chat', 'agent', 'session.message', 'sessions.changed']) server.broadcast(event);
    await pause(300);
    expect(spares.info()).toMatchObject({ ready: true, opened: 1, discarded: 0 });
    for (const event of ['presence', 'health', 'config.changed', 'plugins.changed', 'something.new']) {
      const before = spares.info();
      server.broadcast(event);
      await eventually(() => spares.info().discarded === before.discarded + 1, `the spare to go stale on ${event}`, 5_000, 10);
      await eventually(() => spares.info().ready, `a fresh spare after ${event}`, 5_000, 10);
      expect(spares.info().opened).toBe(before.opened + 1);
    }
  });

  it('replaces a spare older than maxAgeMs', async () => {
    const { cell, spares } = await setup({ settings: { maxAgeMs: 100 } });
    cell.set('ready');
    await eventually(() => spares.info().opened >= 3, 'two replacements', 5_000, 10);
    await eventually(() => spares.info().ready, 'a spare', 5_000, 10);
    const taken = (await spares.take(READ_WRITE, never))!;
    expect(taken.open).toBe(true);
    taken.close();
  });

  it('says the cell answers while a spare that grew old or stale is replaced, and not once the cell dropped or refused one', async () => {
    const { server, cell, spares } = await setup({ helloDelayMs: 60, settings: { maxAgeMs: 150 } });
    expect(spares.info().answering).toBe(false);
    cell.set('ready');
    await eventually(() => spares.info().ready, 'the first spare', 5_000, 10);
    // Read every few milliseconds through several replacements (age, then a stale event): a spare is missing
    // for a while each time, and the cell answers throughout.
    const seen = { gaps: 0, silent: 0 };
    const poll = setInterval(() => {
      const info = spares.info();
      if (!info.ready) seen.gaps++;
      if (!info.answering) seen.silent++;
    }, 2);
    await eventually(() => spares.info().opened >= 4, 'three replacements by age', 5_000, 10);
    server.broadcast('health');
    await eventually(() => spares.info().opened >= 5, 'a replacement after a stale event', 5_000, 10);
    clearInterval(poll);
    expect(seen.gaps).toBeGreaterThan(0);
    expect(seen.silent).toBe(0);

    // The cell drops its connections (a restart): it is not said to answer until a new spare is open.
    await eventually(() => spares.info().ready, 'a spare', 5_000, 10);
    for (const socket of server.open) socket.close(1012, 'service restart');
    await eventually(() => !spares.info().answering, 'the dropped spare to count', 5_000, 2);
    await eventually(() => spares.info().answering, 'a spare of the restarted cell', 5_000, 10);

    // Refused: not answering. A `shutdown` event: not answering, even before the socket closes.
    server.tokens.clear();
    for (const socket of server.open) socket.close(1012, 'service restart');
    await eventually(() => !spares.info().answering, 'the refused spare to count', 5_000, 2);
    await pause(300);
    expect(spares.info().answering).toBe(false);
    server.tokens.add('token-1');
    await eventually(() => spares.info().answering, 'a spare once the cell takes it again', 10_000, 10);
    server.broadcast('shutdown');
    await eventually(() => !spares.info().answering, 'a shutdown event to count', 5_000, 2);

    // Leaving `ready` says so at once.
    await eventually(() => spares.info().answering, 'a spare after the shutdown event', 10_000, 10);
    cell.set('backoff');
    expect(spares.info().answering).toBe(false);
  });

  it('lets a client wait for the spare being opened for it instead of opening its own', async () => {
    const { server, cell, spares } = await setup({ helloDelayMs: 150 });
    cell.set('ready');
    await eventually(() => server.connections === 1, 'the spare being opened', 5_000, 5);
    const started = performance.now();
    const taken = (await spares.take(READ_WRITE, never))!;
    expect(taken.hello).toMatchObject({ n: 1 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(spares.info()).toMatchObject({ taken: 1, missed: 0 });
    taken.close();
  });

  it('tries a spare refused while OpenClaw starts again once it says it takes connections, and only then', async () => {
    let starting = true;
    const { server, cell, spares } = await setup({ starting: () => starting });
    cell.accepting = false;
    cell.set('ready');
    await eventually(() => server.connections === 1, 'the refused spare', 5_000, 5);
    // The retry asked for is a minute away.
    await pause(300);
    expect(server.connections).toBe(1);
    starting = false;
    cell.announce();
    await eventually(() => spares.info().ready, 'the spare right after the announcement', 5_000, 10);
    expect(server.connections).toBe(2);
  });

  it('waits the delay asked for when a spare is refused after OpenClaw said it takes connections', async () => {
    const { server, cell, spares } = await setup({ starting: () => true });
    cell.set('ready');
    await eventually(() => server.connections === 1, 'the refused spare', 5_000, 5);
    await pause(500);
    expect(server.connections).toBe(1);
    expect(spares.info().ready).toBe(false);
  });

  it('closes everything on close(), including a spare still being opened, and opens none after', async () => {
    const slow = await setup({ helloDelayMs: 300 });
    slow.cell.set('ready');
    await eventually(() => slow.server.open.size === 1, 'the spare being opened', 5_000, 5);
    slow.spares.close();
    await eventually(() => slow.server.open.size === 0, 'the half-open spare to be closed', 5_000, 10);

    const { server, cell, spares } = await setup();
    cell.set('ready');
    await eventually(() => spares.info().ready, 'the spare', 5_000, 10);
    spares.close();
    expect(spares.info().ready).toBe(false);
    expect(await spares.take(READ_WRITE, never)).toBeUndefined();
    await eventually(() => server.open.size === 0, 'the spare to be closed', 5_000, 10);
    cell.set('starting');
    cell.set('ready');
    await pause(200);
    expect(server.connections).toBe(1);
    expect(slow.server.connections).toBe(1);
  });
});
