import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import type { GatewayConnection } from '@openclaw-mt/gateway';
import { deleteTenantUser, installOpenClawRuntime, defaultRuntimeDir, type InstallRuntimeResult } from '@openclaw-mt/runtime-openclaw';
import { fakeModelOpenClawConfig, startFakeModelServer, type FakeModelServer } from './support/fake-model-server.js';
import { connectRetrying, eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';
import { runOpenClawCli, type CliResult } from './support/openclaw-cli.js';
import { failureOf } from '../../gateway/test/support/request-failure.js';

// OpenClaw's own clients — the CLI and the TUI from the installed runtime — against the front door,
// one real cell behind it, started in its turn with the other files that start real cells (takeRealCellsTurn).

// Where `openclaw-mt runtime install`, `runtime status` and `serve` look too: $OPENCLAW_MT_RUNTIME_DIR, else the default cache.
const CACHE = defaultRuntimeDir();
const TENANT = 'rclients';
const REPLY = 'Hello from the fake model.';
const OUR_CLI = new URL('../../cli/bin/openclaw-mt.js', import.meta.url).pathname;
const log = createLogger({ tag: 'real-clients', level: Number(process.env.TEST_LOG_LEVEL ?? 3) });

/** Runs the built `openclaw-mt` CLI, as a tenant who uses it instead of OpenClaw's. */
function runOurCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [OUR_CLI, ...args],
      { timeout: 240_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
}

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

describe('real OpenClaw clients through the front door', { timeout: 600_000 }, () => {
  let install: InstallRuntimeResult;
  let model: FakeModelServer;
  let h: OpenClawHarness;
  let token: string;
  let home: string;
  const sessions: GatewayConnection[] = [];

  /** Runs the installed `openclaw` CLI as a user of the front door would, with its own empty home. */
  const cli = (args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<CliResult> =>
    runOpenClawCli(install, home, args, env, timeoutMs);

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    install = await installOpenClawRuntime({ dir: CACHE, onProgress: (line) => log.info(`install: ${line}`) });
    model = await startFakeModelServer(REPLY);
    home = await mkdtemp(join(tmpdir(), 'ocmt-real-clients-home-'));
    h = await startOpenClawGateway({
      runtime: {
        install,
        config: fakeModelOpenClawConfig(model.baseUrl),
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 3) }),
        // Away from other suites' default range, which may run beside this one.
        ports: { first: 52_000, last: 52_999 },
        // A loaded machine can take minutes for a first start; a killed start would cut the turns below.
        startTimeoutMs: 300_000,
      },
      // Clients that are told to come back must find the cell still starting, not evicted.
      manager: { idleTimeoutMs: 300_000, capacity: 2 },
    });
    token = await h.tenant(TENANT);
  }, 1_800_000);

  afterAll(async () => {
    spawnSync('tmux', ['kill-session', '-t', `ocmt-${TENANT}`]);
    for (const session of sessions) session.close();
    await h?.stop();
    await model?.close();
    if (h !== undefined) await deleteTenantUser(TENANT, join(h.dataDir, 'workspaces', tenantDirName(TENANT))).catch(() => undefined);
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  }, 120_000);

  it('`openclaw gateway call health` against a cold tenant succeeds on the first invocation', async () => {
    expect(h.runtime.cells()).toEqual([]);
    const result = await cli(['gateway', 'call', 'health', '--url', h.url, '--token', token, '--json']);
    log.info(`gateway call health: exit ${result.code}; cell ${JSON.stringify(h.runtime.cells()[0]?.state)}`);
    if (result.code !== 0) log.warn(`gateway call health: ${result.stderr.slice(-2_000)}`);
    expect(result.stderr).not.toMatch(/connect timeout|gateway closed/);
    expect(result.code).toBe(0);
    // The front door answers `health` (status "startup-sidecars") until the cell is up, then the cell does.
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
    // The tenant's cell is the one that answered.
    expect(h.runtime.cells().map((cell) => cell.tenantId)).toEqual([TENANT]);
  });

  it('`openclaw agent --message` returns the fake model reply (both answers of `agent` are forwarded)', async () => {
    const served = model.requests.length;
    const result = await cli(['agent', '--agent', 'main', '--message', 'hi', '--json'], {
      OPENCLAW_GATEWAY_URL: h.url,
      OPENCLAW_GATEWAY_TOKEN: token,
    });
    if (result.code !== 0) log.warn(`agent: exit ${result.code}: ${result.stderr.slice(-2_000)}`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(REPLY);
    expect(model.requests.length).toBeGreaterThan(served);
  });

  it('`openclaw-mt connect --message` prints the fake model reply (the run ends in a chat event)', async () => {
    const served = model.requests.length;
    const result = await runOurCli(['connect', '--url', h.url, '--message', 'hi', '--json'], { OPENCLAW_GATEWAY_TOKEN: token });
    if (result.code !== 0) log.warn(`connect: exit ${result.code}: ${result.stderr.slice(-2_000)}`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ runId: expect.any(String), reply: REPLY });
    expect(model.requests.length).toBeGreaterThan(served);
  });

  it('grants no operator.admin and no terminal by default, and refuses provider URL, header and key changes with a coded error', async () => {
    const session = await connectRetrying({
      url: h.url,
      token,
      scopes: ['operator.read', 'operator.write', 'operator.admin'],
    });
    sessions.push(session);
    const hello = session.hello as { auth: { scopes: string[] }; features: { methods: string[] } };
    expect(hello.auth.scopes).not.toContain('operator.admin');
    expect(hello.features.methods.some((method) => method.startsWith('terminal.'))).toBe(false);

    const terminal = await failureOf(session.request('terminal.open', {}));
    expect(terminal.shape.details).toMatchObject({ code: 'BAD_REQUEST', reason: 'privilege-required' });

    const patches = [
      `{ models: { providers: { fake: { baseUrl: "http://127.0.0.1:9/v1" } } } }`,
      `{ "models": { "providers": { "fake": { "base\\u0055rl": "http://127.0.0.1:9/v1" } } } }`,
      `{ models: { providers: { fake: { headers: { "x-leak": "1" } } } } }`,
      `{ models: { providers: { mine: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "k", models: [] } } } }`,
    ];
    for (const raw of patches) {
      const refused = await failureOf(session.request('config.patch', { raw }));
      expect(refused.shape.details).toMatchObject({ code: 'BAD_REQUEST', reason: 'config-locked' });
    }
    // The cell still talks to the operator's endpoint.
    const config = (await session.request('config.get')) as { config?: { models?: { providers?: Record<string, { baseUrl?: string }> } } };
    expect(config.config?.models?.providers?.fake?.baseUrl).toBe(model.baseUrl);
  });

  it('the TUI (in tmux) sends a message and shows the reply', async () => {
    const served = model.requests.length;
    const name = `ocmt-${TENANT}`;
    const command = [
      'env',
      `HOME=${home}`,
      `OPENCLAW_STATE_DIR=${join(home, '.openclaw')}`,
      `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
      install.nodePath,
      install.entryPath,
      'tui',
      '--url',
      h.url,
      '--token',
      token,
      // A session of its own: the main session already shows the reply of the `agent` turn above.
      '--session',
      'tui-check',
    ]
      .map((part) => `'${part.replaceAll("'", "'\\''")}'`)
      .join(' ');
    tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '48', command);
    const screen = () => tmux('capture-pane', '-p', '-t', name);
    await eventually(() => /gateway (re)?connected/.test(screen()), 'the TUI to connect', 180_000, 500).catch((error: unknown) => {
      log.warn(`TUI screen:\n${screen()}`);
      throw error;
    });
    tmux('send-keys', '-t', name, '-l', 'hello from the tui');
    tmux('send-keys', '-t', name, 'Enter');
    await eventually(() => screen().includes(REPLY), 'the reply in the TUI', 180_000, 500).catch((error: unknown) => {
      log.warn(`TUI screen:\n${screen()}`);
      throw error;
    });
    expect(model.requests.length).toBeGreaterThan(served);
  });
});
