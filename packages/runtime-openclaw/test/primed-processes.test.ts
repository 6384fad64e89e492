import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway } from '@openclaw-mt/gateway';
import { createOpenClawRuntime, deleteTenantUser, sandboxSupport } from '@openclaw-mt/runtime-openclaw';
import { mountsUnder } from '../src/sandbox/primed-slot.js';
import { createFakeInstall, eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { cellProcess } from './support/sandbox-probe.js';

// Primed processes with the fake OpenClaw, in the real sandbox: what a tenant's cell gets when it starts in
// one, and what is left when it stops. (The real OpenClaw case is in primed-processes-e2e.test.ts.)

const TENANT = 'primed-fake';
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;

/** `Uid:`, `Groups:`, `CapPrm:` and `CapEff:` of a process. */
function identity(pid: number): { uids: number[]; groups: string; capPrm: string; capEff: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)![1]!.trim();
  return { uids: field('Uid').split(/\s+/).map(Number), groups: field('Groups'), capPrm: field('CapPrm'), capEff: field('CapEff') };
}

describe('runtime options of primed processes', () => {
  it('refuses them without the sandbox, with a relative directory, and a count that is not a whole number', async () => {
    const install = await createFakeInstall();
    try {
      const dir = await mkdtemp(join(tmpdir(), 'ocmt-primed-opts-'));
      const refused = (primedProcesses: { count: number; dir: string }, words: string) =>
        expect(() => createOpenClawRuntime({ install: install.dir, sandbox: false, primedProcesses })).toThrow(
          expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(words) }),
        );
      refused({ count: 1, dir }, 'sandbox');
      refused({ count: 1, dir: 'relative/primed' }, 'primedProcesses.dir');
      refused({ count: 1.5, dir }, 'primedProcesses.count');
      // None asked for: nothing to check.
      expect(createOpenClawRuntime({ install: install.dir, sandbox: false, primedProcesses: { count: 0, dir } }).primedProcesses()).toEqual(
        [],
      );
    } finally {
      await install.cleanup();
    }
  });
});

describe.skipIf(!canSandbox)('primed processes (fake OpenClaw, real sandbox)', () => {
  let install: Awaited<ReturnType<typeof createFakeInstall>>;
  let h: OpenClawHarness;
  let primedDir: string;
  const rootOf = () => join(h.dataDir, 'workspaces', tenantDirName(TENANT));
  const ready = () => h.runtime.primedProcesses().find((primed) => primed.primed);

  beforeAll(async () => {
    install = await createFakeInstall({ selfContained: true });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-primed-'));
    primedDir = join(dataDir, 'primed-processes');
    h = await startOpenClawGateway({
      dataDir,
      runtime: {
        install: install.dir,
        osUsers: true,
        sandbox: true,
        // The fake says when it takes connections, as OpenClaw does (the module list is recorded until then).
        config: { fake: { sidecarsMs: 50 } },
        primedProcesses: { count: 1, dir: primedDir, refillDelayMs: 60_000, retryDelayMs: 200 },
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }),
      },
    });
  }, 120_000);

  afterAll(async () => {
    const root = h === undefined ? undefined : rootOf();
    await h?.runtime.close?.();
    await h?.stop();
    if (h !== undefined) await rm(h.dataDir, { recursive: true, force: true });
    await install?.cleanup();
    if (root !== undefined) await deleteTenantUser(TENANT, root).catch(() => undefined);
  }, 60_000);

  it('replaces a primed process that ends while it waits, and removes its slot', async () => {
    const first = await eventually(ready, 'a primed process', 60_000);
    process.kill(first.pid!, 'SIGKILL');
    const next = await eventually(
      () => h.runtime.primedProcesses().find((primed) => primed.primed && primed.name !== first.name),
      'its replacement',
      60_000,
    );
    expect(next.pid).not.toBe(first.pid);
    expect(existsSync(join(primedDir, 'slots', first.name))).toBe(false);
    expect(await mountsUnder(join(primedDir, 'slots', first.name))).toEqual([]);
  });

  it('starts a returning tenant in the primed process: its own directories, user and credentials, no capability', async () => {
    const token = await h.tenant(TENANT, { ui: { seamColor: '#123456' } });
    // Returning: state of its own from an earlier life, and a file in its workspace.
    await mkdir(join(rootOf(), 'agent'), { recursive: true });
    await writeFile(join(rootOf(), 'agent', 'earlier-life.json'), '{}');
    await mkdir(join(rootOf(), 'workspace'), { recursive: true });
    await writeFile(join(rootOf(), 'workspace', 'notes.md'), 'mine');
    const primed = await eventually(ready, 'a primed process', 60_000);

    const session = await connectGateway({ url: h.url, token, timeoutMs: 60_000 });
    try {
      const cell = h.runtime.cells().find((info) => info.tenantId === TENANT)!;
      expect(cell).toMatchObject({ pid: primed.pid, primed: true, state: 'ready' });
      expect(h.runtime.primedProcesses()).toEqual([]);
      // The token it was sent works (this session), and it sees the tenant's config and directories at the sandbox's paths.
      const health = (await session.request('health')) as { env: { workspace: string; home: string } };
      expect(health.env.workspace).toBe('/tenant/workspace');
      const config = (await session.request('config.get')) as { config: { ui?: { seamColor?: string } } };
      expect(config.config.ui?.seamColor).toBe('#123456');
      // It runs as the tenant's user with no capability left (it waited as root keeping setuid/setgid).
      const pid = cellProcess(cell.pid!, 'openclaw.mjs');
      expect(identity(pid)).toEqual({
        uids: Array(4).fill(cell.user!.uid),
        groups: '',
        capPrm: '0000000000000000',
        capEff: '0000000000000000',
      });
      // Its working directory is the tenant's workspace, not the placeholder under it.
      expect(await readdir(`/proc/${pid}/cwd`)).toContain('notes.md');
    } finally {
      session.close();
    }

    await h.manager.evict(TENANT, { force: true });
    await eventually(() => !h.runtime.cells().some((info) => info.tenantId === TENANT), 'the cell stopped', 30_000);
    // Nothing of it stays mounted; the tenant's files are all there.
    expect(await mountsUnder(primedDir)).toEqual([]);
    expect(existsSync(join(rootOf(), 'agent', 'earlier-life.json'))).toBe(true);
    expect(readFileSync(join(rootOf(), 'workspace', 'notes.md'), 'utf8')).toBe('mine');
  });
});

describe.skipIf(!canSandbox)('refilling primed processes', () => {
  const TAKER = 'primed-refill';
  let install: Awaited<ReturnType<typeof createFakeInstall>>;
  let h: OpenClawHarness;

  beforeAll(async () => {
    install = await createFakeInstall({ selfContained: true });
    h = await startOpenClawGateway({
      runtime: {
        install: install.dir,
        osUsers: true,
        sandbox: true,
        // OpenClaw takes connections two seconds after it starts.
        config: { fake: { sidecarsMs: 2_000 } },
        primedProcesses: { count: 1, dir: join(await mkdtemp(join(tmpdir(), 'ocmt-primed-refill-')), 'primed'), refillDelayMs: 0 },
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }),
      },
    });
  }, 120_000);

  afterAll(async () => {
    const root = h === undefined ? undefined : join(h.dataDir, 'workspaces', tenantDirName(TAKER));
    await h?.runtime.close?.();
    await h?.stop();
    await install?.cleanup();
    if (root !== undefined) await deleteTenantUser(TAKER, root).catch(() => undefined);
  }, 60_000);

  it("primes the replacement only once the taken process's start is done", async () => {
    const token = await h.tenant(TAKER);
    await eventually(() => h.runtime.primedProcesses().find((primed) => primed.primed), 'a primed process', 60_000);
    const session = await connectGateway({ url: h.url, token, timeoutMs: 60_000 });
    try {
      const cell = await eventually(
        () => h.runtime.cells().find((info) => info.tenantId === TAKER && info.acceptingAt !== undefined),
        'the cell taking connections',
        30_000,
      );
      expect(cell.primed).toBe(true);
      const next = await eventually(() => h.runtime.primedProcesses()[0], 'the replacement', 60_000);
      expect(next.startedAt).toBeGreaterThanOrEqual(cell.acceptingAt!);
    } finally {
      session.close();
    }
  });
});

describe.skipIf(!canSandbox)('closing while the module list is recorded', () => {
  it('ends the recording gateway at once and leaves nothing of it', { timeout: 30_000 }, async () => {
    const install = await createFakeInstall({ selfContained: true });
    const dir = join(await mkdtemp(join(tmpdir(), 'ocmt-primed-close-')), 'primed');
    const runtime = createOpenClawRuntime({
      install: install.dir,
      osUsers: true,
      sandbox: true,
      // This OpenClaw never says it takes connections: the recording would wait out the start timeout.
      config: { fake: { announceReady: false } },
      startTimeoutMs: 600_000,
      primedProcesses: { count: 1, dir },
      logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }),
    });
    try {
      const recording = await eventually(
        async () => (await readdir(join(dir, 'modules')).catch(() => [])).find((name) => name.startsWith('record-')),
        'the recording gateway',
        20_000,
      );
      await runtime.close?.();
      expect(existsSync(join(dir, 'modules', recording))).toBe(false);
      expect(await mountsUnder(dir)).toEqual([]);
      expect(runtime.primedProcesses()).toEqual([]);
    } finally {
      await runtime.close?.();
      await install.cleanup();
      await rm(dirname(dir), { recursive: true, force: true });
    }
  });
});
