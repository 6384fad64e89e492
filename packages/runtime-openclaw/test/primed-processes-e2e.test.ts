import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import {
  defaultRuntimeDir,
  deleteTenantUser,
  installOpenClawRuntime,
  sandboxSupport,
  type InstallRuntimeResult,
} from '@openclaw-mt/runtime-openclaw';
import { mountsUnder } from '../src/sandbox/primed-slot.js';
import { fakeModelOpenClawConfig, startFakeModelServer, type FakeModelServer } from './support/fake-model-server.js';
import { eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { runOpenClawCli, type CliResult } from './support/openclaw-cli.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';

// A returning tenant (OpenClaw state of its own) whose cell must start takes a primed real OpenClaw process:
// started before the tenant was known, with OpenClaw's modules loaded. Its answers come from the tenant's
// own state, as the tenant's own user, with no capability left.

const TENANT = 'primed-e2e';
const SCOPES = ['operator.read', 'operator.write'];
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;
const log = createLogger({ tag: 'primed-e2e', level: Number(process.env.TEST_LOG_LEVEL ?? 3) });

type ChatEvent = { event: string; payload?: { state?: string; message?: { content?: Array<{ text?: string }> } } };

async function chatTurn(session: GatewayConnection, message: string): Promise<string | undefined> {
  const events: ChatEvent[] = [];
  session.onEvent((event) => events.push(event as ChatEvent));
  await session.request('chat.send', { sessionKey: 'main', message, idempotencyKey: `primed-${Date.now()}` });
  const final = await eventually(
    () => events.find((event) => event.event === 'chat' && event.payload?.state === 'final'),
    'the final chat event',
    120_000,
  );
  return final.payload?.message?.content?.[0]?.text;
}

/** `Name:`, `Uid:` (real, effective, saved, fs) and `CapEff:` of every process in a process group. */
function groupIdentities(pgid: number): { pid: number; name: string; uids: number[]; capEff: string }[] {
  const pids = execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' })
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
  return pids.flatMap((pid) => {
    try {
      const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
      const uids = /^Uid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/).map(Number);
      const capEff = /^CapEff:\s+(\S+)$/m.exec(status)![1]!;
      const name = /^Name:\s+(.*)$/m.exec(status)![1]!;
      return [{ pid, name, uids, capEff }];
    } catch {
      return [];
    }
  });
}

/** Runs the installed `openclaw` CLI as a user of the front door would, with a home of its own. */
async function openclawCli(install: InstallRuntimeResult, args: string[], env: Record<string, string>): Promise<CliResult> {
  const home = await mkdtemp(join(tmpdir(), 'ocmt-primed-cli-'));
  try {
    return await runOpenClawCli(install, home, args, env);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Files under `dir` modified since `since` (ms), with their owners. */
async function filesChangedSince(dir: string, since: number): Promise<{ path: string; uid: number }[]> {
  const changed: { path: string; uid: number }[] = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs >= since) changed.push({ path: name, uid: info.uid });
  }
  return changed;
}

describe.skipIf(!canSandbox)('a primed real OpenClaw process taken by a returning tenant', { timeout: 900_000 }, () => {
  let model: FakeModelServer;
  let models: ModelGateway;
  let h: OpenClawHarness;
  let primedDir: string;
  let install: InstallRuntimeResult;
  let session: GatewayConnection | undefined;
  const rootOf = () => join(h.dataDir, 'workspaces', tenantDirName(TENANT));

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    install = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    model = await startFakeModelServer();
    models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: model.baseUrl, apiKey: 'fake-key' } } });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-primed-e2e-'));
    primedDir = join(dataDir, 'primed-processes');
    h = await startOpenClawGateway({
      dataDir,
      runtime: {
        install,
        sandbox: true,
        models: { gateway: models },
        config: fakeModelOpenClawConfig(),
        primedProcesses: { count: 1, dir: primedDir },
        // As the CLI runs it: every cell and primed process starts from the install's compile cache.
        compileCache: { dir: join(dataDir, 'compile-cache') },
        helloHoldMs: 120_000,
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 3) }),
      },
    });
  }, 1_800_000);

  afterAll(async () => {
    session?.close();
    const root = h === undefined ? undefined : rootOf();
    await h?.runtime.close?.();
    // Nothing the primed processes mounted outlives the runtime.
    if (primedDir !== undefined) expect(await mountsUnder(primedDir)).toEqual([]);
    await h?.stop();
    await models?.close();
    await model?.close();
    if (root !== undefined) await deleteTenantUser(TENANT, root).catch(() => undefined);
  }, 120_000);

  it("starts a returning tenant's cell in a primed process, on its own state, as its own user, from the install's compile cache", async () => {
    expect(await h.runtime.compileCacheReady()).toBe(true);
    const token = await h.tenant(TENANT);
    // A first life: the tenant's state (a conversation) is made by a cell of its own.
    await eventually(() => h.runtime.primedProcesses().find((primed) => primed.primed), 'a primed process', 300_000);
    session = await connectGateway({ url: h.url, token, scopes: SCOPES, timeoutMs: 300_000 });
    expect(await chatTurn(session, 'Say hello')).toBe('Hello from the fake model.');
    const first = h.runtime.cells().find((info) => info.tenantId === TENANT)!;
    session.close();
    session = undefined;
    await h.manager.evict(TENANT, { force: true });
    await eventually(() => !h.runtime.cells().some((info) => info.tenantId === TENANT), 'the first cell stopped', 60_000);
    expect(() => process.kill(first.pid!, 0)).toThrow();
    // OpenClaw shut down (gracefully) without a compile cache of its own in the tenant's state: it had the install's.
    expect(existsSync(join(rootOf(), 'agent', 'tmp', 'node-compile-cache'))).toBe(false);

    // The tenant returns once a process is primed again: its cell starts in it.
    const primed = await eventually(() => h.runtime.primedProcesses().find((candidate) => candidate.primed), 'a primed process', 300_000);
    const returnedAt = Date.now();
    const started = performance.now();
    session = await connectGateway({ url: h.url, token, scopes: SCOPES, timeoutMs: 300_000 });
    const history = (await session.request('chat.history', { sessionKey: 'main' }, { timeoutMs: 300_000 })) as {
      messages: Array<{ role: string; content: unknown }>;
    };
    const repliedAt = Date.now();
    const cell = h.runtime.cells().find((info) => info.tenantId === TENANT)!;
    log.info(
      `returning tenant on a primed process: connect → first reply ${(performance.now() - started).toFixed(0)} ms (hand-over +${cell.startedAt! - returnedAt} ms, OpenClaw ready +${cell.readyAt! - returnedAt} ms, takes connections +${cell.acceptingAt! - returnedAt} ms, reply +${repliedAt - returnedAt} ms)`,
    );
    expect(cell).toMatchObject({ pid: primed.pid, primed: true, state: 'ready' });
    const openclaw = groupIdentities(cell.pid!).find((entry) => entry.name.startsWith('openclaw'))!;
    expect(readFileSync(`/proc/${openclaw.pid}/environ`, 'utf8').split('\0')).toContain(
      'NODE_COMPILE_CACHE=/run/openclaw-mt/compile-cache',
    );
    // Its own state: the first life's conversation.
    expect(history.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(JSON.stringify(history.messages[1]!.content)).toContain('Hello from the fake model.');

    // Every process of the sandbox but bubblewrap's own (outside, and its init inside) is the tenant's user, with no capability.
    const user = cell.user!;
    const inside = groupIdentities(cell.pid!).filter((entry) => entry.name !== 'bwrap');
    expect(inside.some((entry) => entry.name.startsWith('openclaw'))).toBe(true);
    for (const entry of inside) {
      expect({ ...entry, uids: entry.uids }).toEqual({ ...entry, uids: [user.uid, user.uid, user.uid, user.uid] });
      expect(entry.capEff).toBe('0000000000000000');
    }

    // A second turn, from the real `openclaw` CLI as the user runs it, writes the tenant's own state, as the tenant.
    const cli = await openclawCli(install, ['agent', '--agent', 'main', '--message', 'Say hello again', '--json'], {
      OPENCLAW_GATEWAY_URL: h.url,
      OPENCLAW_GATEWAY_TOKEN: token,
    });
    if (cli.code !== 0) log.warn(`openclaw agent: exit ${cli.code}: ${cli.stderr.slice(-2_000)}`);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('Hello from the fake model.');
    const written = await filesChangedSince(join(rootOf(), 'agent'), returnedAt);
    expect(written.length).toBeGreaterThan(0);
    for (const file of written) expect({ file: file.path, uid: file.uid }).toEqual({ file: file.path, uid: user.uid });
    expect(models.usage(TENANT).requests).toBeGreaterThanOrEqual(2);
  });
});
