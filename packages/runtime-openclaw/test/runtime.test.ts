import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as pause } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { WebSocket } from 'ws';
import { connectGateway, createGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import {
  createOpenClawRuntime,
  DEFAULT_CELL_GLIBC_TUNABLES,
  DEFAULT_CELL_MALLOC_ARENA_MAX,
  DEFAULT_CELL_NODE_OPTIONS,
  type OpenClawRuntimeOptions,
} from '@openclaw-mt/runtime-openclaw';
import {
  connectRetrying,
  createFakeInstall,
  establishedConnections,
  eventually,
  startOpenClawGateway,
  type OpenClawHarness,
} from './support/harness.js';
import { failureOf } from '../../gateway/test/support/request-failure.js';

// Supervision and bridge behaviour against a fake `openclaw` entry (fast and deterministic); the
// real OpenClaw gateway is exercised in e2e.test.ts.

const quiet = createLogger({ level: Number(process.env.TEST_LOG_LEVEL ?? 0) });
const ADMIN = ['operator.read', 'operator.write', 'operator.admin'];
/** What a client asking for ADMIN gets by default: no `operator.admin` unless the operator grants it. */
const LEAST = ['operator.read', 'operator.write'];

describe('openclaw runtime (fake cell)', () => {
  let install: { dir: string; cleanup: () => Promise<void> };
  let h: OpenClawHarness | undefined;
  const open: GatewayConnection[] = [];

  beforeAll(async () => {
    install = await createFakeInstall();
  });
  afterAll(async () => {
    await install.cleanup();
  });
  afterEach(async () => {
    for (const connection of open.splice(0)) connection.close();
    await h?.stop();
    h = undefined;
  });

  async function start(runtime: Partial<OpenClawRuntimeOptions> = {}, manager: { idleTimeoutMs?: number } = {}): Promise<OpenClawHarness> {
    h = await startOpenClawGateway({
      runtime: { install: install.dir, osUsers: false, ports: { first: 31_000, last: 34_999, stride: 8 }, logger: quiet, ...runtime },
      manager,
    });
    return h;
  }

  async function connect(token: string, scopes: string[] = ADMIN): Promise<GatewayConnection> {
    const connection = await connectRetrying({ url: h!.url, token, scopes }, 30_000);
    open.push(connection);
    return connection;
  }

  it('bridges the handshake, requests, upstream errors and events to the tenant cell', async () => {
    const { tenant } = await start();
    const alice = await connect(await tenant('alice'));
    const hello = alice.hello as {
      features: { methods: string[]; events: string[] };
      snapshot: Record<string, unknown>;
      auth: Record<string, unknown>;
    };
    expect(hello.features.methods).toEqual(expect.arrayContaining(['health', 'echo', 'config.patch', 'plugins.list']));
    expect(hello.features.methods).not.toContain('update.run');
    expect(hello.features.methods).not.toContain('plugins.install');
    expect(hello.features.events).not.toContain('connect.challenge');
    expect(hello.snapshot).toMatchObject({ tenantId: 'alice', runtime: 'openclaw', openclawVersion: 'fake-2026.9.6' });
    expect(hello.auth).toEqual({ method: 'token', role: 'operator', scopes: LEAST });
    // What clients adapt to passes through: the cell's capabilities, software build and own limits (under the front door's).
    expect(hello.features).toMatchObject({ capabilities: ['chat.send.routing-contract'] });
    expect(alice.hello.server).toEqual({ version: 'fake-2026.9.6', buildId: 'fake-build-1', connId: expect.any(String) });
    expect(alice.hello.server).not.toMatchObject({ connId: 'c' });
    expect(alice.hello.policy).toMatchObject({ attachments: { maxBytes: 1024 }, maxPayload: expect.any(Number) });
    expect((alice.hello.policy as { tickIntervalMs: number }).tickIntervalMs).not.toBe(200);

    expect(await alice.request('echo', { hello: 'world' })).toEqual({ hello: 'world' });
    // An upstream error shape passes through unchanged.
    const refused = await failureOf(alice.request('fail'));
    expect(refused.shape).toEqual({ code: 'INVALID_REQUEST', message: 'nope', details: { code: 'FAKE_REFUSAL' } });

    const events: Array<{ event: string; payload?: unknown; seq?: number }> = [];
    alice.onEvent((event) => events.push(event));
    await alice.request('emit', { text: 'hi' });
    await eventually(() => events.find((event) => event.event === 'chat'), 'the chat event');
    expect(events.find((event) => event.event === 'chat')).toEqual({ type: 'event', event: 'chat', payload: { text: 'hi' }, seq: 7 });
    // The cell ticks every 200 ms; the front door sends its own ticks instead.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events.filter((event) => event.event === 'tick')).toEqual([]);
  });

  it("measures each cell's process-tree memory, CPU time and directory disk usage, and averages the memory", async () => {
    const { tenant, runtime } = await start();
    expect(await runtime.measuredCellMemory()).toBeUndefined();
    await connect(await tenant('alice'));
    const pid = runtime.cells()[0]!.pid!;
    const [before] = await runtime.cellUsage();
    expect(before).toMatchObject({ tenantId: 'alice' });
    // The fake cell is a real Node process: its RSS is tens of MiB, and /proc agrees with the runtime.
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
    expect(before!.rssBytes).toBeGreaterThanOrEqual(kB('VmRSS') / 2);
    // Of it, what is its own: without the pages of the Node binary it maps (tens of MiB), which the host holds once.
    expect(before!.anonBytes).toBeGreaterThanOrEqual(kB('RssAnon') / 2);
    expect(before!.rssBytes - before!.anonBytes).toBeGreaterThanOrEqual(kB('RssFile') / 2);
    expect(before!.cpuSeconds).toBeGreaterThan(0);
    // Capacity plans with that own memory, not with the RSS that counts the binary once more per cell.
    const planned = await runtime.measuredCellMemory();
    const [now] = await runtime.cellUsage();
    expect(planned).toBeGreaterThan(0);
    expect(planned).toBeLessThan(Math.max(before!.rssBytes, now!.rssBytes) - kB('RssFile') / 2);

    const workspace = join(h!.dataDir, 'workspaces', tenantDirName('alice'), 'workspace');
    await writeFile(join(workspace, 'big.bin'), Buffer.alloc(4 * 2 ** 20, 1));
    const [after] = await runtime.cellUsage();
    expect(after!.diskBytes - before!.diskBytes).toBeGreaterThanOrEqual(4 * 2 ** 20);
  });

  it("never shows a client the cell's port, token or extra credentials", async () => {
    const { tenant, runtime } = await start();
    const alice = await connect(await tenant('alice'));
    const port = runtime.cells()[0]!.port!;
    const text = JSON.stringify(alice.hello);
    expect(text).not.toContain(`:${port}`);
    expect(text).not.toContain('recovery-secret');
    expect(alice.hello).not.toHaveProperty('pluginSurfaceUrls');
    const leak = (await alice.request('leak')) as { url: string; token: string };
    expect(leak.url).toBe('http://openclaw-cell.invalid/__openclaw__/cap/xyz');
    expect(leak.token).toBe('[redacted]');
  });

  it('asks the cell only for the scopes the client asked for, within the operator maximum', async () => {
    const { tenant } = await start({ scopes: ['operator.read', 'operator.write'] });
    const token = await tenant('alice');
    expect((await connect(token, ['operator.read'])).hello.auth).toEqual({ method: 'token', role: 'operator', scopes: ['operator.read'] });
    expect((await connect(token, ['operator.read', 'operator.admin'])).hello.auth).toEqual({
      method: 'token',
      role: 'operator',
      scopes: ['operator.read'],
    });
    const node = await failureOf(connectGateway({ url: h!.url, token, role: 'node', timeoutMs: 30_000 }));
    expect(node.code).toBe('BAD_REQUEST');
  });

  it('grants operator.admin and terminals only to the tenants the operator names', async () => {
    const { tenant } = await start({ privileges: { admin: ['trusted'], terminal: ['trusted'] } });
    const plain = await connect(await tenant('plain'));
    expect(plain.hello.auth).toEqual({ method: 'token', role: 'operator', scopes: LEAST });
    const refused = await failureOf(plain.request('terminal.open', {}));
    expect(refused.shape.details).toMatchObject({ code: 'BAD_REQUEST', reason: 'privilege-required', privilege: 'terminal' });
    const trusted = await connect(await tenant('trusted'));
    expect(trusted.hello.auth).toEqual({ method: 'token', role: 'operator', scopes: ADMIN });
    // Forwarded: the fake cell does not know the method and says so itself.
    expect((await failureOf(trusted.request('terminal.open', {}))).shape.message).toBe('unknown method terminal.open');
    expect(((await plain.request('stats')) as { requests: string[] }).requests).toEqual(['stats']);
  });

  it("forwards every answer of a two-phase method (`agent`) under the client's request id", async () => {
    const { tenant } = await start();
    const token = await tenant('alice');
    await connect(token);
    const socket = new WebSocket(h!.url);
    const frames: Array<{ type: string; id?: string; ok?: boolean; payload?: { status?: string } }> = [];
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as (typeof frames)[number] & { event?: string };
      if (frame.type === 'event' && frame.event === 'connect.challenge') {
        socket.send(
          JSON.stringify({
            type: 'req',
            id: 'c1',
            method: 'connect',
            params: { minProtocol: 3, maxProtocol: 4, client: { id: 'cli', mode: 'cli' }, auth: { token } },
          }),
        );
      } else if (frame.type === 'res' && frame.id === 'c1') {
        socket.send(JSON.stringify({ type: 'req', id: 'a1', method: 'agent', params: { message: 'hi' } }));
        socket.send(JSON.stringify({ type: 'req', id: 'a2', method: 'accept-only' }));
        socket.send(JSON.stringify({ type: 'req', id: 'a3', method: 'echo', params: { after: true } }));
      } else if (frame.type === 'res') {
        frames.push(frame);
      }
    });
    await eventually(
      () => frames.filter((frame) => frame.id === 'a1').length === 2 && frames.some((frame) => frame.id === 'a3'),
      'both answers',
    );
    socket.close();
    expect(frames.filter((frame) => frame.id === 'a1').map((frame) => frame.payload?.status)).toEqual(['accepted', 'ok']);
    expect(frames.filter((frame) => frame.id === 'a2')).toHaveLength(1);
  });

  /** What a client's hello-ok says about its cell (the front door's own `server.connId` differs per connection). */
  const cellHello = (hello: Record<string, unknown>) => ({
    features: hello.features,
    snapshot: hello.snapshot,
    auth: hello.auth,
    policy: hello.policy,
  });

  it("hands a client whose scopes match the cell's warm spare connection (no round trip to the cell), and opens the next one", async () => {
    const { tenant, runtime } = await start();
    const token = await tenant('alice');
    const first = await connect(token);
    const spares = () => runtime.cells()[0]!.spares!;
    await eventually(() => spares().ready, 'the spare connection');
    const before = spares();
    const { authenticated } = (await first.request('stats')) as { authenticated: number };

    const second = await connect(token);
    expect(spares()).toMatchObject({ taken: before.taken + 1, missed: before.missed });
    // The same hello as a connection of its own gets: the cell's fields come from the spare's own hello.
    expect(cellHello(second.hello)).toEqual(cellHello(first.hello));
    expect(second.hello.auth).toEqual({ method: 'token', role: 'operator', scopes: LEAST });
    await eventually(() => spares().ready, 'the next spare');
    expect(spares()).toMatchObject({ opened: before.opened + 1, discarded: before.discarded });
    // The cell saw one new connection since: the next spare. The second client's handshake cost it none.
    expect(((await second.request('stats')) as { authenticated: number }).authenticated).toBe(authenticated + 1);

    // A spare-backed session is a session like any other: requests, events, scrubbing, no cell ticks.
    expect(await second.request('echo', { hello: 'spare' })).toEqual({ hello: 'spare' });
    expect(((await second.request('leak')) as { token: string }).token).toBe('[redacted]');
    const events: string[] = [];
    second.onEvent((event) => events.push(event.event));
    await second.request('emit', { text: 'hi' });
    await eventually(() => events.includes('chat'), 'the chat event');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events).not.toContain('tick');
  });

  it('gives a client asking for other scopes a connection of its own, capped by the operator maximum, and the spare follows it', async () => {
    const { tenant, runtime } = await start({ scopes: ['operator.read', 'operator.write'] });
    const token = await tenant('alice');
    const spares = () => runtime.cells()[0]!.spares!;
    await connect(token, ['operator.read', 'operator.write']);
    await eventually(() => spares().ready, 'the spare connection');
    const before = spares();

    const reader = await connect(token, ['operator.read']);
    expect(reader.hello.auth).toEqual({ method: 'token', role: 'operator', scopes: ['operator.read'] });
    expect(spares()).toMatchObject({ taken: before.taken, missed: before.missed + 1 });
    expect(await reader.request('echo', { ok: 1 })).toEqual({ ok: 1 });

    // The next spare asks for what the last client asked for; more than the operator allows is the same ask.
    await eventually(() => spares().ready && spares().discarded === before.discarded + 1, 'a spare asking for operator.read');
    const capped = await connect(token, ['operator.read', 'operator.admin']);
    expect(capped.hello.auth).toEqual({ method: 'token', role: 'operator', scopes: ['operator.read'] });
    expect(spares()).toMatchObject({ taken: before.taken + 1, missed: before.missed + 1 });
    expect(await capped.request('echo', { ok: 2 })).toEqual({ ok: 2 });
  });

  it('closes the spare on eviction while the cell still runs, and leaves no connection behind', async () => {
    const { tenant, runtime, manager } = await start({ stopTimeoutMs: 2_500 });
    const token = await tenant('alice', { fake: { ignoreSigterm: true } });
    const alice = await connect(token);
    await eventually(() => runtime.cells()[0]?.spares?.ready, 'the spare connection');
    const { port, pid } = runtime.cells()[0]!;
    // Sessions come and go, each taking the spare: what stays is one connection per open session, plus the spare.
    for (let i = 0; i < 5; i++) {
      const session = await connect(token);
      expect(await session.request('echo', { i })).toEqual({ i });
      session.close();
    }
    expect(runtime.cells()[0]!.spares!.taken).toBeGreaterThanOrEqual(3);
    await eventually(async () => (await establishedConnections(port!)) === 2, 'alice and the spare only');
    await eventually(async () => ((await alice.request('stats')) as { open: number }).open === 2, 'the cell to count two');
    alice.close();
    await eventually(async () => (await establishedConnections(port!)) === 1, 'the spare only');

    const evicted = manager.evict('alice', { force: true });
    // Closed by the runtime, not by the process dying: this cell ignores SIGTERM and runs until SIGKILL.
    await eventually(async () => (await establishedConnections(port!)) === 0, 'the spare to be closed', 2_000, 20);
    expect(() => process.kill(pid!, 0)).not.toThrow();
    await evicted;
    expect(runtime.cells()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await establishedConnections(port!)).toBe(0);
  });

  it('never hands out a spare the cell dropped: right after an in-place restart the next client gets a live connection', async () => {
    const { tenant, runtime } = await start();
    const token = await tenant('alice');
    const alice = await connect(token);
    const spares = () => runtime.cells()[0]!.spares!;
    await eventually(() => spares().ready, 'the spare connection');
    const before = spares();
    await alice.request('restart').catch(() => undefined);
    expect((await alice.closed).code).toBe(1012);
    // At once, before a new spare can be there.
    const bob = await connect(token);
    expect(spares().discarded).toBeGreaterThan(before.discarded);
    expect(spares().taken).toBe(before.taken);
    expect(await bob.request('echo', { ok: 1 })).toEqual({ ok: 1 });
    await eventually(() => spares().ready, 'a spare after the restart');
    const carol = await connect(token);
    expect(spares().taken).toBe(before.taken + 1);
    expect(await carol.request('echo', { ok: 2 })).toEqual({ ok: 2 });
    expect(await bob.request('echo', { ok: 3 })).toEqual({ ok: 3 });
    expect(runtime.cells()[0]).toMatchObject({ starts: 1, crashes: 0 });
  });

  it('refuses denied methods and locked config keys before they reach the cell', async () => {
    const { tenant } = await start({ methods: { deny: ['echo'] } });
    const alice = await connect(await tenant('alice'));
    for (const method of ['update.run', 'plugins.install', 'echo', 'wizard.start', 'exec.approvals.set']) {
      const refused = await failureOf(alice.request(method, {}));
      expect(refused.code, method).toBe('BAD_REQUEST');
      expect(refused.shape.details?.reason, method).toBe('method-denied');
    }
    const locked = [
      ['config.patch', { raw: '{ gateway: { port: 1 } }' }],
      ['config.patch', { raw: '{"gateway": null}' }],
      ['config.patch', { raw: "{ 'gat\\u0065way': { auth: { mode: 'none' } } }" }],
      ['config.patch', { raw: '{ logging: { file: "/etc/passwd" } }' }],
      ['config.patch', { raw: '{ agents: {} }', replacePaths: ['gateway.auth'] }],
      ['config.patch', { raw: '{ agents: { $include: "/etc/openclaw.json" } }' }],
      ['config.set', { raw: '{ gateway: { mode: "local", bind: "lan" } }' }],
      ['config.patch', { raw: '{ not json' }],
    ] as const;
    for (const [method, params] of locked) {
      const refused = await failureOf(alice.request(method, params));
      expect(refused.code, params.raw).toBe('BAD_REQUEST');
      expect(['config-locked', 'config-unreadable'], params.raw).toContain(refused.shape.details?.reason);
    }
    expect(await alice.request('config.patch', { raw: '{ "logging": { "level": "debug" } }' })).toMatchObject({ ok: true });
    const { requests } = (await alice.request('stats')) as { requests: string[] };
    expect(requests).toEqual(['config.patch', 'stats']);
  });

  it('puts locked keys back after a full config replacement', async () => {
    const { tenant, runtime } = await start();
    const alice = await connect(await tenant('alice'));
    const { config: before } = (await alice.request('config.get')) as { config: Record<string, unknown> };
    // OpenClaw's HTTP surfaces are enforced off unless the operator enables them; the Control UI is the front door's.
    expect(before.gateway).toEqual({
      mode: 'local',
      controlUi: { enabled: false },
      http: { endpoints: { chatCompletions: { enabled: false }, responses: { enabled: false } } },
    });
    expect(before.hooks).toEqual({ enabled: false });
    // Repeating the locked keys unchanged is fine; leaving them out is fine too: they come back.
    await alice.request('config.set', { raw: JSON.stringify({ gateway: before.gateway, ui: { theme: 'dark' } }) });
    await alice.request('config.set', { raw: JSON.stringify({ ui: { theme: 'light' } }) });
    const root = join(h!.dataDir, 'workspaces', tenantDirName('alice'));
    const file = JSON.parse(await readFile(join(root, 'agent', 'openclaw.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({
      ui: { theme: 'light' },
      gateway: { mode: 'local' },
      logging: { file: join(root, 'agent', 'logs', 'openclaw.log') },
    });
    expect(runtime.cells()[0]!.state).toBe('ready');
  });

  it('renders the config: operator defaults < the file as the tenant left it < tenant config < enforced keys', async () => {
    const { tenant, manager } = await start({ config: { a: { x: 1, y: 1 }, d: 'default' } });
    const token = await tenant('alice', { a: { y: 2 }, gateway: { reload: { mode: 'hot' }, controlUi: { enabled: true } } });
    const alice = await connect(token);
    const { config } = (await alice.request('config.get')) as { config: Record<string, unknown> };
    expect(config).toMatchObject({
      a: { x: 1, y: 2 },
      d: 'default',
      update: { checkOnStart: false },
      plugins: { entries: { 'device-pair': { enabled: false } } },
      agents: { defaults: { heartbeat: { every: '0m' } } },
      // The tenant config reaches the gateway section; the enforced keys win over it.
      gateway: { mode: 'local', reload: { mode: 'hot' }, controlUi: { enabled: false } },
    });
    await alice.request('config.patch', { raw: JSON.stringify({ d: 'mine', b: 'kept' }) });
    await manager.evict('alice', { force: true });
    const again = await connect(token);
    const { config: after } = (await again.request('config.get')) as { config: Record<string, unknown> };
    // The tenant's own edits survive a restart; the tenant config is applied again over them.
    expect(after).toMatchObject({ a: { x: 1, y: 2 }, d: 'mine', b: 'kept' });
  });

  it("leaves OpenClaw's device-pairing plugin off unless the operator turns it on", async () => {
    const { tenant } = await start({ config: { plugins: { entries: { 'device-pair': { enabled: true }, other: { enabled: true } } } } });
    const alice = await connect(await tenant('alice'));
    const { config } = (await alice.request('config.get')) as { config: Record<string, unknown> };
    expect(config.plugins).toEqual({ entries: { 'device-pair': { enabled: true }, other: { enabled: true } } });
  });

  it("leaves OpenClaw's heartbeat off unless the operator sets its cadence, keeping the operator's other agent defaults", async () => {
    const { tenant } = await start({
      config: { agents: { defaults: { heartbeat: { every: '2h', lightContext: true }, model: { primary: 'fake/fake-model' } } } },
    });
    const alice = await connect(await tenant('alice'));
    const { config } = (await alice.request('config.get')) as { config: { agents?: unknown } };
    expect(config.agents).toEqual({ defaults: { heartbeat: { every: '2h', lightContext: true }, model: { primary: 'fake/fake-model' } } });
  });

  it("keeps the gateway's own environment from the cell and passes the operator's extra variables", async () => {
    process.env.OPENCLAW_SERVICE_TOKEN = 'service-secret-value';
    try {
      const { tenant } = await start({ env: { FAKE_EXTRA: 'extra' } });
      const alice = await connect(await tenant('alice'));
      const root = join(h!.dataDir, 'workspaces', tenantDirName('alice'));
      const { env } = (await alice.request('health')) as { env: Record<string, unknown> };
      expect(env).toEqual({
        service: null,
        extra: 'extra',
        home: join(root, 'agent', 'home'),
        workspace: join(root, 'workspace'),
        nodeOptions: DEFAULT_CELL_NODE_OPTIONS,
        mallocArenaMax: DEFAULT_CELL_MALLOC_ARENA_MAX,
        glibcTunables: DEFAULT_CELL_GLIBC_TUNABLES,
      });
    } finally {
      delete process.env.OPENCLAW_SERVICE_TOKEN;
    }
  });

  it("limits every cell's heap, malloc arenas and malloc thresholds by default, and the operator's env replaces each", async () => {
    const tunables = 'glibc.malloc.tcache_count=0';
    const { tenant } = await start({ env: { NODE_OPTIONS: '--max-old-space-size=1024', MALLOC_ARENA_MAX: '8', GLIBC_TUNABLES: tunables } });
    const alice = await connect(await tenant('alice'));
    const { env } = (await alice.request('health')) as { env: Record<string, unknown> };
    expect(env.nodeOptions).toBe('--max-old-space-size=1024');
    expect(env.mallocArenaMax).toBe('8');
    expect(env.glibcTunables).toBe(tunables);
  });

  it('hides a cold start behind the handshake, and answers a retryable UNAVAILABLE beyond the wait', async () => {
    const { tenant } = await start({ coldStartWaitMs: 300 });
    const token = await tenant('slow', { fake: { startDelayMs: 2_500 } });
    const early = await failureOf(connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 30_000 }));
    expect(early.shape).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      // What OpenClaw's own clients retry quietly (within their 100 ms – 2 s bounds).
      details: { code: 'BACKEND_UNAVAILABLE', reason: 'startup-sidecars' },
      retryAfterMs: 1_000,
    });
    expect(early.closeCode).toBe(1013);
    const later = await connect(token);
    expect(await later.request('echo', { ok: 1 })).toEqual({ ok: 1 });
  });

  it('answers hello-ok itself when the cell is not up within the hold; health says starting, other requests wait for the cell', async () => {
    const { tenant } = await start({ helloHoldMs: 200, coldStartWaitMs: 30_000 });
    const token = await tenant('slow', { fake: { startDelayMs: 2_500 } });
    const client = await connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 2_000 });
    open.push(client);
    expect(client.hello.snapshot).toMatchObject({ tenantId: 'slow', runtime: 'openclaw', starting: true });
    expect(client.hello.auth).toEqual({ method: 'token', role: 'operator', scopes: LEAST });
    // Before any cell has answered, the early hello names the installed OpenClaw, not the front door.
    expect(client.hello.server).toMatchObject({ version: '2026.9.6-fake' });
    expect(await client.request('health')).toMatchObject({ ok: true, status: 'startup-sidecars', tenantId: 'slow' });
    expect(await client.request('echo', { after: 'start' })).toEqual({ after: 'start' });
    // Once the cell answers, health is the cell's own.
    expect(await client.request('health')).toMatchObject({ ok: true, pid: expect.any(Number) });
    expect(await failureOf(client.request('update.run', {}))).toMatchObject({ code: 'BAD_REQUEST' });
    // A later early hello names the cells' own server, as the last cell hello gave it.
    const second = await tenant('slow2', { fake: { startDelayMs: 2_500 } });
    const early = await connectGateway({ url: h!.url, token: second, scopes: ADMIN, timeoutMs: 2_000 });
    open.push(early);
    expect(early.hello.snapshot).toMatchObject({ starting: true });
    expect(early.hello.server).toMatchObject({ version: 'fake-2026.9.6', buildId: 'fake-build-1' });
  });

  it("gives OpenClaw's Control UI the startup answer instead of an early hello, so its hello is always the cell's", async () => {
    const { tenant } = await start({ helloHoldMs: 200, coldStartWaitMs: 30_000 });
    const token = await tenant('slow', { fake: { startDelayMs: 2_500 } });
    const ui = { id: 'openclaw-control-ui', mode: 'webchat' };
    const refused = await failureOf(connectGateway({ url: h!.url, token, client: ui, scopes: ADMIN, timeoutMs: 2_000 }));
    // What OpenClaw answers while it starts, and what its clients reconnect on quietly.
    expect(refused.shape).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { reason: 'startup-sidecars' } });
    expect(refused.closeCode).toBe(1013);
    const client = await connectRetrying({ url: h!.url, token, client: ui, scopes: ADMIN }, 30_000);
    open.push(client);
    expect(client.hello.snapshot).not.toHaveProperty('starting');
    expect(client.hello.features).toMatchObject({ capabilities: ['chat.send.routing-contract'] });
  });

  it('retries the startup-sidecars refusal within the same wait', async () => {
    const { tenant } = await start();
    const token = await tenant('alice', { fake: { sidecarsMs: 1_500 } });
    const alice = await connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 30_000 });
    open.push(alice);
    expect(await alice.request('echo', { ok: 1 })).toEqual({ ok: 1 });
  });

  it('tries a refused connection again as soon as OpenClaw says it takes connections, not after the delay it asked for', async () => {
    const { tenant } = await start();
    // OpenClaw refuses for 1.5 s and asks for a retry after a minute; it says when it takes connections.
    const token = await tenant('alice', { fake: { sidecarsMs: 1_500, retryAfterMs: 60_000 } });
    const alice = await connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 20_000 });
    open.push(alice);
    expect(await alice.request('echo', { ok: 1 }, { timeoutMs: 20_000 })).toEqual({ ok: 1 });
    const cell = h!.runtime.cells().find((info) => info.tenantId === 'alice')!;
    expect(cell.acceptingAt).toBeGreaterThanOrEqual(cell.readyAt!);
    // Without that line, the wait is the one asked for.
    const bobToken = await tenant('bob', { fake: { sidecarsMs: 1_500, retryAfterMs: 60_000, announceReady: false } });
    const bob = await connectGateway({ url: h!.url, token: bobToken, scopes: ADMIN, timeoutMs: 20_000 });
    open.push(bob);
    const answer = bob.request('echo', { ok: 2 }, { timeoutMs: 20_000 }).catch(() => 'failed');
    expect(await Promise.race([answer, pause(4_000).then(() => 'still waiting')])).toBe('still waiting');
  });

  it('reports exit code 78 as CONFIG_INVALID with the redacted stderr tail, and starts again once the config is fixed', async () => {
    const { tenant, adapter, runtime } = await start();
    const token = await tenant('alice', { fake: { exitCode: 78, stderr: 'leaking $TOKEN and gt_abcdefghijklmnopqrstuvwxyz0123456789' } });
    const refused = await failureOf(connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 30_000 }));
    expect(refused.code).toBe('CONFIG_INVALID');
    expect(refused.closeCode).toBe(1008);
    expect(refused.message).toContain('fake says no');
    expect(refused.message).not.toMatch(/gt_[a-z]{10}/);
    expect(refused.message).toContain('[redacted]');
    expect(runtime.cells()[0]).toMatchObject({ state: 'failed', starts: 1 });
    await h!.manager.applyConfig(await adapter.configs.set('alice', { config: { openclaw: { fake: {} } } }));
    await eventually(() => runtime.cells()[0]?.state === 'ready', 'the cell to start with the fixed config', 10_000);
    expect(await (await connect(token)).request('echo', { ok: 1 })).toEqual({ ok: 1 });
  });

  it('restarts a crashed cell with backoff; its sessions see a retryable close', async () => {
    const { tenant, runtime } = await start({ restart: { initialDelayMs: 200 } });
    const token = await tenant('alice');
    const alice = await connect(token);
    const pid = runtime.cells()[0]!.pid;
    await alice.request('crash').catch(() => undefined);
    expect((await alice.closed).code).toBe(1012);
    const again = await connect(token);
    expect(await again.request('echo', { ok: 1 })).toEqual({ ok: 1 });
    expect(runtime.cells()[0]).toMatchObject({ state: 'ready', starts: 2, crashes: 1, lastExit: { code: 3 } });
    expect(runtime.cells()[0]!.pid).not.toBe(pid);
  });

  it('gives up after repeated failed starts and tries again for the next client', async () => {
    const { tenant, runtime, adapter } = await start({ restart: { initialDelayMs: 50, maxAttempts: 2 } });
    const token = await tenant('alice', { fake: { exitCode: 1 } });
    const refused = await failureOf(connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 30_000 }));
    expect(refused.shape).toMatchObject({ code: 'UNAVAILABLE', details: { code: 'BACKEND_UNAVAILABLE' } });
    await eventually(() => runtime.cells()[0]?.state === 'failed', 'the cell to give up');
    expect(runtime.cells()[0]!.starts).toBe(2);
    // The next client retries it (still failing: refused again, after two more starts) …
    expect((await failureOf(connectGateway({ url: h!.url, token, scopes: ADMIN, timeoutMs: 30_000 }))).shape.details?.code).toBe(
      'BACKEND_UNAVAILABLE',
    );
    expect(runtime.cells()[0]!.starts).toBe(4);
    // … and a config update retries it too.
    await h!.manager.applyConfig(await adapter.configs.set('alice', { config: { openclaw: { fake: {} } } }));
    expect(await (await connect(token)).request('echo', { ok: 1 })).toEqual({ ok: 1 });
  });

  it('closes sessions with 1012 when the cell restarts in place, and the client reconnects to the same process', async () => {
    const { tenant, runtime } = await start();
    const token = await tenant('alice');
    const alice = await connect(token);
    const events: string[] = [];
    alice.onEvent((event) => events.push(event.event));
    await alice.request('restart').catch(() => undefined);
    expect((await alice.closed).code).toBe(1012);
    expect(events).toContain('shutdown');
    await connect(token);
    expect(runtime.cells()[0]).toMatchObject({ starts: 1, crashes: 0 });
  });

  it("stops an idle tenant's cell (SIGKILL after the grace period) and a new connect starts it again", async () => {
    const { tenant, runtime } = await start({ stopTimeoutMs: 300 }, { idleTimeoutMs: 200 });
    const token = await tenant('alice', { fake: { ignoreSigterm: true } });
    const alice = await connect(token);
    const { pid } = (await alice.request('health')) as { pid: number };
    alice.close();
    await eventually(() => runtime.cells().length === 0, 'the idle eviction', 10_000);
    // Gone, although it ignored SIGTERM.
    expect(() => process.kill(pid, 0)).toThrow();
    const again = await connect(token);
    const { pid: next } = (await again.request('health')) as { pid: number };
    expect(next).not.toBe(pid);
  });

  it('never lets a wrong or missing token reach any cell', async () => {
    const { tenant, runtime } = await start();
    const alice = await connect(await tenant('alice'));
    // The spare connection is opened in the background: count once it is there.
    await eventually(() => runtime.cells()[0]?.spares?.ready, 'the spare connection');
    const before = (await alice.request('stats')) as { connections: number; authenticated: number };
    const { token: stranger } = await h!.manager.tokens.create('mallory');
    await h!.manager.tokens.revoke(stranger);
    for (const token of [undefined, 'gt_notavalidtoken', `gt_${'A'.repeat(36)}`, stranger]) {
      const refused = await failureOf(
        connectGateway({ url: h!.url, ...(token === undefined ? {} : { token }), scopes: ADMIN, timeoutMs: 10_000 }),
      );
      expect(refused.code).toMatch(/^TOKEN_/);
    }
    const after = (await alice.request('stats')) as { connections: number; authenticated: number };
    expect(after.connections).toBe(before.connections);
    expect(after.authenticated).toBe(before.authenticated);
    expect(runtime.cells().map((cell) => cell.tenantId)).toEqual(['alice']);
  });

  it('fails activation with CONFIG_INVALID when the workspace store has no local directories', async () => {
    const manager = new TenantManager({ ...createMemoryAdapter(), idleTimeoutMs: 0 });
    const gateway = createGateway({
      manager,
      port: 0,
      runtime: createOpenClawRuntime({ install: install.dir, osUsers: false, sandbox: false, logger: quiet }),
    });
    const { url } = await gateway.listen();
    try {
      const { token } = await manager.tokens.create('alice');
      const refused = await failureOf(connectGateway({ url, token, timeoutMs: 10_000 }));
      expect(refused.code).toBe('CONFIG_INVALID');
      expect(refused.shape.details?.reason).toBe('no-local-directory');
    } finally {
      await gateway.close();
    }
  });
});
