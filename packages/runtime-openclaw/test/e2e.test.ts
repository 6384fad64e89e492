import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsolaOptions, LogObject } from 'consola';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import {
  deleteTenantUser,
  installOpenClawRuntime,
  osUsersAvailable,
  defaultRuntimeDir,
  type InstallRuntimeResult,
} from '@openclaw-mt/runtime-openclaw';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import { fakeModelOpenClawConfig, startFakeModelServer, type FakeModelServer } from './support/fake-model-server.js';
import { connectRetrying, establishedConnections, eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';
import { descendants } from './support/sandbox-probe.js';
import { failureOf } from '../../gateway/test/support/request-failure.js';

// The real thing: the `openclaw` npm package (installed once into a reused cache directory), three
// tenants, each with its own OpenClaw gateway process behind the front door. No test is skipped: a
// failed install fails them all with its reason.

// Where `openclaw-mt runtime install`, `runtime status` and `serve` look too: $OPENCLAW_MT_RUNTIME_DIR, else the default cache.
const CACHE = defaultRuntimeDir();
const TENANTS = ['alice', 'bob', 'carol'] as const;
const SCOPES = ['operator.read', 'operator.write', 'operator.admin'];
const IDLE_MS = 20_000;
// A conversation long enough to fill the 256 MiB heap OpenClaw's gateway once ran with (out of memory at its ~10th turn).
const LONG_TURNS = 16;
const AT_LENGTH = 'Please answer at length, turn';
// Short, so a cell gives back its idle workers' memory within the test.
const RELEASE_IDLE_WORKERS_MS = 8_000;
const LONG_REPLY = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n'.repeat(50);
const log = createLogger({ tag: 'openclaw-e2e', level: Number(process.env.TEST_LOG_LEVEL ?? 3) });
// What the cells' relays say about OpenClaw's sweep of its cloud workers (their output reaches the runtime's log as debug lines).
const SWEEP_OFF = "[openclaw-mt] OpenClaw's worker-environment sweep is off";
const sweepLines: string[] = [];

/** The runtime's logger, printing as the others do and keeping the cells' lines about the sweep. */
function runtimeLogger() {
  const printed = Number(process.env.TEST_LOG_LEVEL ?? 3);
  const logger = createLogger({ tag: 'openclaw', level: Math.max(printed, 4) });
  logger.setReporters([
    ...logger.options.reporters.map((reporter) => ({
      log: (entry: LogObject, context: { options: ConsolaOptions }) => {
        if (entry.level <= printed) reporter.log(entry, context);
      },
    })),
    {
      log: (entry: LogObject) => {
        const line = entry.args.map(String).join(' ');
        if (line.includes(SWEEP_OFF)) sweepLines.push(line);
      },
    },
  ]);
  return logger;
}

describe('openclaw runtime with real OpenClaw gateways', { timeout: 600_000 }, () => {
  let install: InstallRuntimeResult;
  let model: FakeModelServer;
  let models: ModelGateway;
  let h: OpenClawHarness;
  const tokens: Record<string, string> = {};
  const sessions: Record<string, GatewayConnection> = {};

  const rootOf = (tenantId: string) => join(h.dataDir, 'workspaces', tenantDirName(tenantId));
  const cellOf = (tenantId: string) => h.runtime.cells().find((cell) => cell.tenantId === tenantId);

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    install = await installOpenClawRuntime({ dir: CACHE, onProgress: (line) => log.info(`install: ${line}`) });
    log.info(
      `OpenClaw ${install.openclawVersion} on Node ${install.nodeVersion} from ${install.dir} (${install.installed ? `installed in ${install.durationMs} ms` : 'cached'})`,
    );
    model = await startFakeModelServer((request) =>
      JSON.stringify(request.messages?.at(-1) ?? '').includes(AT_LENGTH) ? LONG_REPLY : 'Hello from the fake model.',
    );
    // Cells reach the fake model only through the model gateway (their sandboxes have no network); its key stays here.
    models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: model.baseUrl, apiKey: 'fake-key' } } });
    h = await startOpenClawGateway({
      runtime: {
        install,
        sandbox: true,
        models: { gateway: models },
        // Operator defaults: every tenant's agent talks to the local fake model (through the model gateway).
        config: fakeModelOpenClawConfig(),
        logger: runtimeLogger(),
        // These tenants change their own config (OpenClaw asks operator.admin of config writes).
        privileges: { admin: ['*'] },
        // Every hello below is the cell's own: the handshake waits out the cold start.
        helloHoldMs: 120_000,
        releaseIdleWorkersMs: RELEASE_IDLE_WORKERS_MS,
      },
      manager: { idleTimeoutMs: IDLE_MS, capacity: 3 },
    });
    for (const tenantId of TENANTS) tokens[tenantId] = await h.tenant(tenantId);
  }, 1_800_000);

  afterAll(async () => {
    for (const session of Object.values(sessions)) session.close();
    await h?.stop();
    await models?.close();
    await model?.close();
    for (const tenantId of TENANTS) await deleteTenantUser(tenantId, rootOf(tenantId)).catch(() => undefined);
  }, 120_000);

  it('starts a gateway per tenant on demand; each tenant calls real OpenClaw methods through the front door', async () => {
    const started = Date.now();
    await Promise.all(
      TENANTS.map(async (tenantId) => {
        sessions[tenantId] = await connectRetrying({ url: h.url, token: tokens[tenantId], scopes: SCOPES }, 300_000, (error) =>
          log.info(`${tenantId}: ${error.shape.code} (${String(error.shape.details?.reason)}), retrying in ${error.shape.retryAfterMs} ms`),
        );
      }),
    );
    for (const tenantId of TENANTS) {
      const cell = cellOf(tenantId)!;
      log.info(
        `${tenantId}: ready in ${cell.readyAt! - cell.startedAt!} ms as ${cell.user?.name ?? 'this user'}; ${Math.round((await h.runtime.cellMemory(tenantId)) / 2 ** 20)} MiB RSS`,
      );
    }
    log.info(`three cold starts side by side: ${Date.now() - started} ms`);
    const pids = new Set(TENANTS.map((tenantId) => cellOf(tenantId)!.pid));
    expect(pids.size).toBe(3);

    for (const tenantId of TENANTS) {
      const session = sessions[tenantId]!;
      const hello = session.hello as { features: { methods: string[] }; snapshot: Record<string, unknown>; auth: { scopes: string[] } };
      expect(hello.snapshot).toMatchObject({
        tenantId,
        runtime: 'openclaw',
        openclawVersion: install.openclawVersion,
        // Every cell sees its own directories at /tenant, whatever the host's layout.
        stateDir: '/tenant/agent',
      });
      expect(hello.features.methods).toEqual(
        expect.arrayContaining(['health', 'config.get', 'config.patch', 'sessions.list', 'chat.send']),
      );
      expect(hello.features.methods).not.toContain('update.run');
      expect(hello.auth.scopes).toEqual(SCOPES);
      // The client never learns the cell's port or credential.
      expect(JSON.stringify(hello)).not.toContain(`:${cellOf(tenantId)!.port}`);

      expect(await session.request('health')).toMatchObject({ ok: true });
      const config = (await session.request('config.get')) as { path: string; valid: boolean };
      expect(config).toMatchObject({ valid: true, path: '/tenant/agent/openclaw.json' });
      expect(await session.request('sessions.list', {})).toMatchObject({ sessions: [] });
    }
  });

  it("keeps OpenClaw's sweep of its cloud workers off in every cell without network", async () => {
    // The relay finds the sweep's timer as this release of OpenClaw arms it: each cell says so once per start.
    await eventually(() => sweepLines.length >= TENANTS.length, "the cells' relays to find OpenClaw's sweep", 60_000);
    for (const tenantId of TENANTS)
      expect(sweepLines.filter((line) => line.startsWith(`[${tenantId}] `))).toHaveLength(cellOf(tenantId)!.starts);
  });

  it("bridges a further client of a warm cell over the cell's spare connection, with the same hello", async () => {
    const spares = () => cellOf('bob')!.spares!;
    await eventually(() => spares().ready, "bob's spare connection", 60_000);
    const before = spares();
    const started = performance.now();
    const extra = await connectGateway({ url: h.url, token: tokens.bob, scopes: SCOPES, timeoutMs: 30_000 });
    log.info(`bob: connect → hello-ok over the spare in ${(performance.now() - started).toFixed(1)} ms`);
    try {
      expect(spares()).toMatchObject({ taken: before.taken + 1, missed: before.missed });
      const hello = extra.hello as { features: { methods: string[] }; snapshot: Record<string, unknown>; auth: { scopes: string[] } };
      const own = sessions.bob!.hello as typeof hello;
      expect(hello.auth).toEqual(own.auth);
      expect(hello.features).toEqual(own.features);
      expect(hello.snapshot).toMatchObject({
        tenantId: 'bob',
        runtime: 'openclaw',
        openclawVersion: install.openclawVersion,
        stateDir: '/tenant/agent',
      });
      expect(JSON.stringify(hello)).not.toContain(`:${cellOf('bob')!.port}`);
      expect(await extra.request('health')).toMatchObject({ ok: true });
    } finally {
      extra.close();
    }
    await eventually(() => spares().ready, "bob's next spare connection", 60_000);
  });

  it("keeps one tenant's config.patch invisible to the others, and refuses gateway keys and self-update", async () => {
    const alice = sessions.alice!;
    const before = (await alice.request('config.get')) as { hash: string };
    // A setting of the tenant's own (provider endpoints and keys are the operator's: see the real-clients test).
    const raw = JSON.stringify({ ui: { seamColor: '#AA1100' } });
    expect(await alice.request('config.patch', { raw, baseHash: before.hash })).toMatchObject({ ok: true });
    const mine = (await alice.request('config.get')) as { sourceConfig: { ui?: { seamColor?: string } } };
    expect(mine.sourceConfig.ui?.seamColor).toBe('#AA1100');
    for (const other of ['bob', 'carol']) {
      const theirs = (await sessions[other]!.request('config.get')) as { sourceConfig: { ui?: { seamColor?: string } } };
      expect(theirs.sourceConfig.ui?.seamColor, other).toBeUndefined();
    }

    const after = (await alice.request('config.get')) as { hash: string };
    const locked = await failureOf(
      alice.request('config.patch', { raw: JSON.stringify({ gateway: { bind: 'lan' } }), baseHash: after.hash }),
    );
    expect(locked.shape).toMatchObject({
      code: 'INVALID_REQUEST',
      details: { code: 'BAD_REQUEST', reason: 'config-locked', path: 'gateway' },
    });
    const update = await failureOf(alice.request('update.run', {}));
    expect(update.shape.details).toMatchObject({ code: 'BAD_REQUEST', reason: 'method-denied' });
  });

  it("answers chat.send with a reply from the tenant's configured model (a local fake OpenAI-compatible server)", async () => {
    const alice = sessions.alice!;
    const events: Array<{ event: string; payload?: { state?: string; message?: { content?: Array<{ text?: string }> } } }> = [];
    alice.onEvent((event) => events.push(event as (typeof events)[number]));
    const sent = (await alice.request('chat.send', { sessionKey: 'main', message: 'Say hello', idempotencyKey: `e2e-${Date.now()}` })) as {
      status: string;
    };
    expect(sent.status).toBe('started');
    const final = await eventually(
      () => events.find((event) => event.event === 'chat' && event.payload?.state === 'final'),
      'the final chat event',
      120_000,
    );
    expect(final.payload?.message?.content?.[0]?.text).toBe('Hello from the fake model.');
    expect(model.requests.length).toBeGreaterThan(0);
    expect(model.requests.at(-1)?.model).toBe('fake-model');
    const history = (await alice.request('chat.history', { sessionKey: 'main' })) as { messages: Array<{ role: string }> };
    expect(history.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
  });

  it('holds a long conversation without its cell running out of memory', async () => {
    const bob = sessions.bob!;
    const { pid, crashes } = cellOf('bob')!;
    const events: Array<{ event: string; payload?: { state?: string } }> = [];
    bob.onEvent((event) => events.push(event as (typeof events)[number]));
    for (let turn = 1; turn <= LONG_TURNS; turn++) {
      events.length = 0;
      const message = `${AT_LENGTH} ${turn}. ${'Some context for the answer. '.repeat(60)}`;
      await bob.request('chat.send', { sessionKey: 'long', message, idempotencyKey: `long-${turn}-${Date.now()}` });
      const end = await eventually(
        () => events.find((event) => event.event === 'chat' && ['final', 'error', 'aborted'].includes(event.payload?.state ?? '')),
        `the end of turn ${turn}`,
        120_000,
      );
      expect(end.payload?.state, `turn ${turn}`).toBe('final');
    }
    // The same process answered every turn: it neither crashed nor was restarted.
    expect(cellOf('bob')).toMatchObject({ pid, crashes, state: 'ready' });
    log.info(`bob: ${LONG_TURNS} long turns; cell at ${Math.round((await h.runtime.cellMemory('bob')) / 2 ** 20)} MiB RSS`);
  });

  it('gives back the memory of the workers its turns started once no model call has been open for a while', async () => {
    // OpenClaw keeps the worker threads of chat turns for 30 minutes; the cell asks it to retire idle ones sooner.
    const { pid, crashes } = cellOf('bob')!;
    const after = await h.runtime.cellMemory('bob');
    const released = await eventually(
      async () => {
        const now = await h.runtime.cellMemory('bob');
        return now < after - 100 * 2 ** 20 ? now : undefined;
      },
      "bob's idle workers retired",
      90_000,
      1_000,
    );
    log.info(`bob: ${Math.round(after / 2 ** 20)} → ${Math.round(released / 2 ** 20)} MiB RSS once idle`);
    // The same process gave it back (a restart would also drop it), and it still answers.
    expect(cellOf('bob')).toMatchObject({ pid, crashes, state: 'ready' });
    expect(await sessions.bob!.request('health')).toMatchObject({ ok: true });
    // No spawn broker runs in the cell (off by default), and the SQLite reader OpenClaw's start left is stopped.
    const helpers = descendants(pid!).filter((child) => {
      try {
        // Node processes only: bubblewrap's command line names the broker's entry it empties.
        const [program, ...args] = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
        return program?.endsWith('/node') === true && args.some((arg) => /spawn-broker|sqlite-readonly-child/.test(arg));
      } catch {
        return false;
      }
    });
    expect(helpers).toEqual([]);
    // OpenClaw starts what it needs again: a further turn ends as the others did.
    const events: Array<{ event: string; payload?: { state?: string } }> = [];
    sessions.bob!.onEvent((event) => events.push(event as (typeof events)[number]));
    await sessions.bob!.request('chat.send', { sessionKey: 'after-idle', message: 'Say hello', idempotencyKey: `idle-${Date.now()}` });
    const end = await eventually(
      () => events.find((event) => event.event === 'chat' && ['final', 'error', 'aborted'].includes(event.payload?.state ?? '')),
      'the end of the turn after idle',
      120_000,
    );
    expect(end.payload?.state).toBe('final');
  });

  it('never lets a wrong or missing gateway token reach any cell', async () => {
    const ports = TENANTS.map((tenantId) => cellOf(tenantId)!.port!);
    const count = async () => (await Promise.all(ports.map((port) => establishedConnections(port)))).reduce((a, b) => a + b, 0);
    // One connection per open session plus each cell's spare (replaced now and then in the background: count with it there).
    const sparesReady = () => TENANTS.every((tenantId) => cellOf(tenantId)!.spares?.ready);
    await eventually(sparesReady, 'every spare connection', 60_000);
    const before = await count();
    const cellsBefore = h.runtime.cells().map((cell) => `${cell.tenantId}:${cell.pid}`);
    const { token: revoked } = await h.manager.tokens.create('mallory');
    await h.manager.tokens.revoke(revoked);
    for (const token of [
      undefined,
      'not-a-token',
      `gt_${'x'.repeat(40)}`,
      tokens.alice!.slice(0, -1) + (tokens.alice!.endsWith('A') ? 'B' : 'A'),
      revoked,
    ]) {
      const refused = await failureOf(
        connectGateway({ url: h.url, ...(token === undefined ? {} : { token }), scopes: SCOPES, timeoutMs: 10_000 }),
      );
      expect(refused.code).toMatch(/^TOKEN_/);
    }
    await eventually(sparesReady, 'every spare connection', 60_000);
    await eventually(async () => (await count()) === before, `${before} connections to the cells`, 5_000);
    expect(h.runtime.cells().map((cell) => `${cell.tenantId}:${cell.pid}`)).toEqual(cellsBefore);
  });

  it("runs each cell as its own OS user: tenant A's user gets permission denied on B's files", async () => {
    if (!osUsersAvailable()) {
      // Not root: the documented fallback (one OS user for all cells, and a warning at start) is what there is to check.
      log.warn('OS-user isolation NOT tested: the tests are not running as root.');
      expect(h.runtime.osUsers).toBe(false);
      expect(cellOf('bob')!.user).toBeUndefined();
      return;
    }
    expect(h.runtime.osUsers).toBe(true);
    const alice = cellOf('alice')!.user!;
    const bob = cellOf('bob')!.user!;
    expect(alice.uid).not.toBe(bob.uid);
    const bobRoot = await stat(rootOf('bob'));
    expect(bobRoot.uid).toBe(bob.uid);
    expect(bobRoot.mode & 0o777).toBe(0o700);
    const asAlice = (command: string, ...args: string[]) => spawnSync(command, args, { uid: alice.uid, gid: alice.gid, encoding: 'utf8' });
    const own = asAlice('cat', join(rootOf('alice'), 'agent', 'openclaw.json'));
    expect(own.status).toBe(0);
    for (const target of [join(rootOf('bob'), 'agent', 'openclaw.json'), join(rootOf('bob'), 'workspace', 'AGENTS.md')]) {
      const read = asAlice('cat', target);
      expect(read.status).not.toBe(0);
      expect(read.stderr).toContain('Permission denied');
    }
    const list = asAlice('ls', rootOf('bob'));
    expect(list.stderr).toContain('Permission denied');
  });

  it("stops an idle tenant's cell and starts it again on the next connect, with its state intact", async () => {
    const before = cellOf('alice')!;
    sessions.alice!.close();
    delete sessions.alice;
    await eventually(() => cellOf('alice') === undefined, "alice's idle eviction", IDLE_MS + 60_000, 500);
    expect(() => process.kill(before.pid!, 0)).toThrow();
    expect(
      h.runtime
        .cells()
        .map((cell) => cell.tenantId)
        .sort(),
    ).toEqual(['bob', 'carol']);

    const alice = await connectRetrying({ url: h.url, token: tokens.alice, scopes: SCOPES }, 300_000);
    sessions.alice = alice;
    const after = cellOf('alice')!;
    expect(after.pid).not.toBe(before.pid);
    // OpenClaw said when it took connections (its log line, which brings a refused connection's retry forward).
    expect(after.acceptingAt).toBeGreaterThanOrEqual(after.readyAt!);
    const config = (await alice.request('config.get')) as { sourceConfig: { ui?: { seamColor?: string } } };
    expect(config.sourceConfig.ui?.seamColor).toBe('#AA1100');
    const history = (await alice.request('chat.history', { sessionKey: 'main' })) as {
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(history.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(JSON.stringify(history.messages[1]!.content)).toContain('Hello from the fake model.');
  });
});
