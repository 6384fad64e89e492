import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import { defaultRuntimeDir, deleteTenantUser, installOpenClawRuntime, sandboxSupport } from '@openclaw-mt/runtime-openclaw';
import { fakeModelOpenClawConfig, startFakeModelServer, type FakeModelServer } from './support/fake-model-server.js';
import { eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';

// A real OpenClaw gateway booted before anyone asks, taken by a new tenant: the tenant's first request
// and first chat turn are answered by that process, which reads the tenant's own workspace files.

const TENANT = 'warm-e2e';
const MARKER = 'The secret word of this workspace is PELICAN-7.';
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;
const log = createLogger({ tag: 'warm-e2e', level: Number(process.env.TEST_LOG_LEVEL ?? 3) });

/** Transcripts OpenClaw archived when a session was deleted, anywhere under a state directory. */
async function archivedTranscripts(stateDir: string): Promise<string[]> {
  const entries = await readdir(stateDir, { recursive: true });
  return entries.filter((entry) => entry.includes('.deleted.'));
}

describe.skipIf(!canSandbox)('a pre-booted real OpenClaw gateway taken by a new tenant', { timeout: 600_000 }, () => {
  let model: FakeModelServer;
  let models: ModelGateway;
  let h: OpenClawHarness;
  let session: GatewayConnection | undefined;
  const rootOf = () => join(h.dataDir, 'workspaces', tenantDirName(TENANT));

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    const install = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    model = await startFakeModelServer();
    models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: model.baseUrl, apiKey: 'fake-key' } } });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-warm-e2e-'));
    h = await startOpenClawGateway({
      dataDir,
      runtime: {
        install,
        sandbox: true,
        models: { gateway: models },
        config: fakeModelOpenClawConfig(),
        warmCells: { count: 1, dir: join(dataDir, 'warm-cells'), refillDelayMs: 600_000 },
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 3) }),
      },
    });
  }, 1_800_000);

  afterAll(async () => {
    session?.close();
    const root = h === undefined ? undefined : rootOf();
    await h?.stop();
    await models?.close();
    await model?.close();
    if (root !== undefined) await deleteTenantUser(TENANT, root).catch(() => undefined);
  }, 120_000);

  it("answers the new tenant's first request and chat turn from the pre-booted process, with the tenant's workspace", async () => {
    // Offered once OpenClaw answers a connection (its spare is open), not at its first challenge.
    const warm = await eventually(() => h.runtime.warmCells().find((cell) => cell.offered), 'a ready pre-booted cell', 300_000);
    // Offered after its warm-up turn: OpenClaw's agent is loaded before the tenant's first message.
    expect(warm.warmUp).toBe('done');
    const token = await h.tenant(TENANT);
    await mkdir(join(rootOf(), 'workspace'), { recursive: true });
    await writeFile(join(rootOf(), 'workspace', 'USER.md'), `# User\n\n${MARKER}\n`);

    const started = performance.now();
    session = await connectGateway({ url: h.url, token, scopes: ['operator.read', 'operator.write'], timeoutMs: 60_000 });
    const helloMs = performance.now() - started;
    const listed = await session.request('sessions.list', {});
    const firstReplyMs = performance.now() - started;
    log.info(`new tenant on a pre-booted cell: connect → hello ${helloMs.toFixed(0)} ms, → first reply ${firstReplyMs.toFixed(0)} ms`);
    expect(listed).toMatchObject({ sessions: [] });
    const cell = h.runtime.cells().find((info) => info.tenantId === TENANT)!;
    // The same process, not started again at the claim (its boot may have taken two starts: OpenClaw once exited
    // with EADDRINUSE on its port at its first, and the cell started again as it should).
    expect(cell).toMatchObject({ pid: warm.pid, starts: warm.starts, state: 'ready' });

    const events: Array<{ event: string; payload?: { state?: string; message?: { content?: Array<{ text?: string }> } } }> = [];
    session.onEvent((event) => events.push(event as (typeof events)[number]));
    const turnStarted = performance.now();
    await session.request('chat.send', { sessionKey: 'main', message: 'Say hello', idempotencyKey: `warm-${Date.now()}` });
    const final = await eventually(
      () => events.find((event) => event.event === 'chat' && event.payload?.state === 'final'),
      'the final chat event',
      120_000,
    );
    log.info(`first chat turn on the taken cell: ${(performance.now() - turnStarted).toFixed(0)} ms`);
    expect(final.payload?.message?.content?.[0]?.text).toBe('Hello from the fake model.');
    // The warm-up's model call never reached the provider, and nothing of its session is in the tenant's state.
    for (const request of model.requests) expect(JSON.stringify(request.messages)).toContain('Say hello');
    expect(await archivedTranscripts(join(rootOf(), 'agent'))).toEqual([]);
    // The prompt carried the tenant's own workspace file, written after the cell booted.
    expect(JSON.stringify(model.requests.at(-1)?.messages)).toContain(MARKER);
    expect(models.usage(TENANT).requests).toBeGreaterThan(0);
    // The tenant's files were its account's before they appeared in the cell: OpenClaw could watch every one of them
    // (its skills and memory watchers gave up on files it saw while they were still root's).
    const cellLog = await readFile(join(rootOf(), 'agent', 'logs', 'openclaw.log'), 'utf8');
    expect(cellLog).toContain('openclaw-mt-warm-up');
    expect(cellLog).not.toMatch(/EACCES/);

    // What the taken cell wrote is in the tenant's root: a cell of its own, started after it, shows the conversation.
    session.close();
    session = undefined;
    await h.manager.evict(TENANT, { force: true });
    await eventually(() => !h.runtime.cells().some((info) => info.tenantId === TENANT), 'the taken cell stopped', 60_000);
    session = await connectGateway({ url: h.url, token, scopes: ['operator.read', 'operator.write'], timeoutMs: 300_000 });
    const history = (await session.request('chat.history', { sessionKey: 'main' }, { timeoutMs: 300_000 })) as {
      messages: Array<{ role: string }>;
    };
    expect(h.runtime.cells().find((info) => info.tenantId === TENANT)?.pid).not.toBe(warm.pid);
    expect(history.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
  });
});
