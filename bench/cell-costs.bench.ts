import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, TenantManager } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { connectGateway, createGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { createModelGateway } from '@openclaw-mt/model-gateway';
import {
  cellProcessUsage,
  createOpenClawRuntime,
  cellLaunch,
  DEFAULT_CELL_GLIBC_TUNABLES,
  DEFAULT_CELL_MALLOC_ARENA_MAX,
  DEFAULT_CELL_NODE_OPTIONS,
  defaultRuntimeDir,
  deleteTenantUser,
  installOpenClawRuntime,
  listProcesses,
  type OpenClawInstall,
  type OpenClawRuntime,
  type OpenClawRuntimeOptions,
} from '@openclaw-mt/runtime-openclaw';
import { fakeModelOpenClawConfig, startFakeModelServer } from '../packages/runtime-openclaw/test/support/fake-model-server.js';
import { type Benchmark, pause, percentile, round } from './harness.js';

const TENANT = 'bench-costs';
const NEW_TENANT = 'bench-costs-new';
const SCOPES = ['operator.read', 'operator.write'];
/** Quiet time after the first reply before memory is read: what an idle cell settles at. */
const IDLE_MS = 20_000;
const WARM_ROUNDS = 7;
const FIRST_REPLY = 'sessions.list';
const GiB = 1024 ** 3;
/** Files in the workspace of a returning tenant: an agent's project after some work (a checkout and its dependencies). */
const PROJECT_FILES = 20_000;
const MiB = 2 ** 20;
/**
 * The cells' `releaseIdleWorkersMs` here (5 min by default): long enough that the idle figure is read before it (it runs
 * from the end of the cell's start, then `IDLE_MS`), short enough to read the tree after.
 */
const RELEASE_IDLE_WORKERS_MS = 75_000;
/**
 * How long after the quiet time the tree is read again: past a run of OpenClaw's upkeep (every 60 s, whatever the
 * config), which reads the tenant's state through worker threads it then keeps for 30 minutes.
 */
const SWEPT_MS = 70_000;
/** The window over which an idle cell's CPU time is read. */
const IDLE_CPU_WINDOW_MS = 60_000;

/** Connects until the gateway answers (it refuses or is not listening while it starts), then asks the first request. */
async function connectAndAsk(url: string, token: string, direct: boolean, deadlineMs = 300_000): Promise<GatewayConnection> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const connection = await connectGateway({
        url,
        token,
        scopes: SCOPES,
        timeoutMs: 200_000,
        ...(direct ? { client: { id: 'gateway-client', mode: 'backend', version: 'bench', platform: process.platform } } : {}),
      });
      await connection.request(FIRST_REPLY, {}, { timeoutMs: 200_000 });
      return connection;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(100);
    }
  }
}

/** Milliseconds for a client to connect to a warm gateway and get its first reply (median of a few). */
async function warmReply(url: string, token: string, direct: boolean): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < WARM_ROUNDS; i++) {
    await pause(200);
    const started = performance.now();
    const connection = await connectAndAsk(url, token, direct, 30_000);
    samples.push(performance.now() - started);
    connection.close();
  }
  return percentile(samples, 50);
}

/** A bare OpenClaw gateway, started as a cell is (same command, environment and heap limits), without the front door, sandbox or OS user. */
async function bareGateway(install: OpenClawInstall, dir: string, port: number) {
  const paths = { state: join(dir, 'state'), workspace: join(dir, 'workspace') };
  for (const path of [paths.state, paths.workspace, join(paths.state, 'home'), join(paths.state, 'tmp'), join(paths.state, 'logs')])
    await mkdir(path, { recursive: true });
  const config = join(paths.state, 'openclaw.json');
  await writeFile(config, `${JSON.stringify({ gateway: { mode: 'local' }, update: { checkOnStart: false } })}\n`);
  const token = 'bench-bare-gateway-token-0123456789abcdef';
  const launch = cellLaunch(install, port);
  const child = spawn(launch.command[0]!, launch.command.slice(1), {
    cwd: paths.workspace,
    detached: true,
    stdio: 'ignore',
    env: {
      ...launch.env,
      HOME: join(paths.state, 'home'),
      TMPDIR: join(paths.state, 'tmp'),
      OPENCLAW_STATE_DIR: paths.state,
      OPENCLAW_CONFIG_PATH: config,
      OPENCLAW_WORKSPACE_DIR: paths.workspace,
      OPENCLAW_GATEWAY_TOKEN: token,
    },
  });
  return {
    url: `ws://127.0.0.1:${port}`,
    token,
    pid: child.pid!,
    stop: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

/** 12 — what a tenant's cell costs: cold connect → first reply, idle memory of the whole tree, cells per GiB; next to a bare OpenClaw gateway. */
export const cellCosts: Benchmark = {
  id: 13,
  title: 'OpenClaw cell costs: cold connect → first reply, idle memory per cell, cells per GiB',
  floor:
    'a bare `openclaw gateway run` started the same way in the same run (same command, environment and heap limits; no front door, sandbox or OS user): spawn → connect → first reply',
  async run() {
    const install = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-bench-costs-'));
    const logger = createLogger({ tag: 'openclaw', level: 1 });

    // The floor: a bare gateway, cold (its own fresh state and compile cache).
    const bare = await bareGateway(install, join(dataDir, 'bare'), 47_301);
    let bareColdMs: number;
    let bareWarmMs: number;
    let bareTree: { rssBytes: number; processes: number };
    try {
      const started = performance.now();
      const first = await connectAndAsk(bare.url, bare.token, true);
      bareColdMs = performance.now() - started;
      first.close();
      await pause(IDLE_MS);
      bareTree = cellProcessUsage(await listProcesses(), { rootPid: bare.pid });
      bareWarmMs = await warmReply(bare.url, bare.token, true);
    } finally {
      bare.stop();
    }
    // The floor for a returning tenant: the same gateway started again on its own state, with the same project.
    writeProject(join(dataDir, 'bare', 'workspace'));
    const restarted = await bareGateway(install, join(dataDir, 'bare'), 47_302);
    let bareRestartMs: number;
    try {
      const started = performance.now();
      (await connectAndAsk(restarted.url, restarted.token, true)).close();
      bareRestartMs = performance.now() - started;
    } finally {
      restarted.stop();
    }

    // The cell: a cold tenant through the front door, with every default (sandbox and OS user as root), the model
    // gateway and the install's compile cache (recorded first, as a front door does once per install).
    const manager = new TenantManager({ ...createFsAdapter({ dataDir: join(dataDir, 'front-door') }), idleTimeoutMs: 0 });
    const compileCache = { dir: join(dataDir, 'compile-cache') };
    const { runtime, closeModels } = await benchRuntime(install, logger, compileCache, { releaseIdleWorkersMs: RELEASE_IDLE_WORKERS_MS });
    const gateway = createGateway({
      manager,
      runtime,
      port: 0,
      handshakeTimeoutMs: 180_000,
      quotas: { connections: 100, workspaceBytes: GiB },
      logger,
    });
    let cellColdMs: number;
    let cellReturningMs: number;
    let cellWarmMs: number;
    let cellTree: { rssBytes: number; anonBytes: number; diskBytes: number; storedBytes: number };
    let releasedTree: { rssBytes: number };
    let sweptTree: { rssBytes: number; anonBytes: number };
    let idleCpuMsPerMinute: number;
    let activationMs: number | undefined;
    let compileCacheMs: number;
    try {
      const { url } = await gateway.listen();
      const recording = performance.now();
      if (!(await runtime.compileCacheReady())) throw new Error('the compile cache was not recorded');
      compileCacheMs = performance.now() - recording;
      const { token } = await manager.tokens.create(TENANT);
      const started = performance.now();
      const first = await connectAndAsk(url, token, false);
      cellColdMs = performance.now() - started;
      const info = runtime.cells().find((cell) => cell.tenantId === TENANT);
      if (info?.readyAt !== undefined && info.startedAt !== undefined) activationMs = info.readyAt - info.startedAt;
      // The tenant stays active with one open session, as a connected client keeps it.
      await pause(IDLE_MS);
      const usage = (await runtime.cellUsage()).find((cell) => cell.tenantId === TENANT)!;
      cellTree = usage;
      cellWarmMs = await warmReply(url, token, false);
      // Still idle once its quiet time has passed (from its gateway listening, before it was ready): OpenClaw's SQLite
      // reader is given back.
      const startEnded = info?.readyAt ?? info?.startedAt;
      if (startEnded !== undefined) await pause(Math.max(0, startEnded + RELEASE_IDLE_WORKERS_MS + 10_000 - Date.now()));
      releasedTree = (await runtime.cellUsage()).find((cell) => cell.tenantId === TENANT)!;
      // What a quiet cell holds, with OpenClaw's own periodic work; then what that work costs in CPU.
      await pause(SWEPT_MS);
      const swept = (await runtime.cellUsage()).find((cell) => cell.tenantId === TENANT)!;
      sweptTree = swept;
      const windowStart = performance.now();
      await pause(IDLE_CPU_WINDOW_MS);
      const later = (await runtime.cellUsage()).find((cell) => cell.tenantId === TENANT)!;
      idleCpuMsPerMinute = ((later.cpuSeconds - swept.cpuSeconds) * 1000 * 60_000) / (performance.now() - windowStart);
      // A conversation before it goes: a returning tenant has chatted.
      await chatTurn(first);
      first.close();
      // A returning tenant: its cell stopped, its state and a project in its workspace (its own files) on disk.
      await manager.evict(TENANT, { force: true });
      const root = join(dataDir, 'front-door', 'workspaces', tenantDirName(TENANT));
      const { uid, gid } = statSync(join(root, 'workspace'));
      writeProject(join(root, 'workspace'), { uid, gid });
      const returned = performance.now();
      (await connectAndAsk(url, token, false)).close();
      cellReturningMs = performance.now() - returned;
    } finally {
      await gateway.close();
      await closeModels();
      if (runtime.osUsers)
        await deleteTenantUser(TENANT, join(dataDir, 'front-door', 'workspaces', tenantDirName(TENANT))).catch(() => undefined);
    }

    // A new tenant with a pre-booted cell waiting (warmCells: 1), as an operator who keeps one ready runs it.
    const pooled = await newTenantOnWarmCell(install, join(dataDir, 'pool'), logger, compileCache);
    // A returning tenant with a primed process waiting (primedProcesses: 1).
    const primed = await returningTenantOnPrimedProcess(install, join(dataDir, 'primed'), logger, compileCache).finally(() =>
      rm(dataDir, { recursive: true, force: true }),
    );

    const sandbox = runtime.sandboxed ? 'sandboxed' : 'not sandboxed';
    return {
      figures: [
        { label: 'bare gateway: spawn → first reply (cold)', value: round(bareColdMs, 0), unit: 'ms' },
        { label: 'cell: cold tenant connect → first reply, through the front door', value: round(cellColdMs, 0), unit: 'ms' },
        {
          label: `bare gateway started again on its own state (${PROJECT_FILES.toLocaleString('en')} project files): spawn → first reply`,
          value: round(bareRestartMs, 0),
          unit: 'ms',
        },
        {
          label: `cell: returning tenant (it chatted; cell stopped; its state and ${PROJECT_FILES.toLocaleString('en')} project files on disk): connect → first reply`,
          value: round(cellReturningMs, 0),
          unit: 'ms',
        },
        ...(activationMs === undefined ? [] : [{ label: 'cell: spawn → ready (connect.challenge)', value: activationMs, unit: 'ms' }]),
        {
          label: `returning tenant on a primed process (\`primedProcesses: 1\`; it chatted; its state and ${PROJECT_FILES.toLocaleString('en')} project files): connect → first reply`,
          value: round(primed.firstReplyMs, 0),
          unit: 'ms',
        },
        { label: 'primed process, waiting: RSS of its whole process tree', value: round(primed.standbyBytes / MiB, 0), unit: 'MiB' },
        { label: "primed process: spawn → primed (OpenClaw's modules loaded)", value: round(primed.primeMs, 0), unit: 'ms' },
        {
          label: 'new tenant on a pre-booted cell (`warmCells: 1`): connect → first reply, through the front door',
          value: round(pooled.firstReplyMs, 0),
          unit: 'ms',
        },
        {
          label: 'new tenant on a pre-booted cell: its first chat turn, message → final answer (fake model)',
          value: round(pooled.firstTurnMs, 0),
          unit: 'ms',
        },
        {
          label: 'pre-booted cell: spawn → offered to a tenant (OpenClaw answers its spare connection; warm-up turn over)',
          value: round(pooled.bootMs, 0),
          unit: 'ms',
        },
        { label: 'pre-booted cell, warmed up: RSS of its whole process tree', value: round(pooled.standbyBytes / MiB, 0), unit: 'MiB' },
        { label: 'bare gateway: connect → first reply (warm, median)', value: round(bareWarmMs, 1), unit: 'ms' },
        { label: 'cell: connect → first reply through the front door (warm, median)', value: round(cellWarmMs, 1), unit: 'ms' },
        { label: 'bare gateway: idle RSS of its process tree', value: round(bareTree.rssBytes / MiB, 0), unit: 'MiB' },
        { label: 'bare gateway: processes', value: bareTree.processes, unit: '' },
        { label: 'cell: idle RSS of its whole process tree', value: round(cellTree.rssBytes / MiB, 0), unit: 'MiB' },
        {
          label: `cell: idle RSS of its whole process tree 10 s after its quiet time (its SQLite reader given back; \`releaseIdleWorkersMs\`, ${RELEASE_IDLE_WORKERS_MS / 1000} s here)`,
          value: round(releasedTree.rssBytes / MiB, 0),
          unit: 'MiB',
        },
        {
          label: `cell: idle RSS of its whole process tree ${SWEPT_MS / 1000} s later, past a run of OpenClaw's upkeep (every 60 s): what a quiet cell holds`,
          value: round(sweptTree.rssBytes / MiB, 0),
          unit: 'MiB',
        },
        {
          label:
            "cell: idle anonymous memory of its whole tree (RSS without the pages of files it maps, the Node binary's above all, which the host holds once for all cells): what capacity plans with",
          value: round(cellTree.anonBytes / MiB, 0),
          unit: 'MiB',
        },
        { label: 'cell: the same once quiet (after its upkeep)', value: round(sweptTree.anonBytes / MiB, 0), unit: 'MiB' },
        { label: "cell, idle and quiet: CPU time per minute (OpenClaw's periodic work)", value: round(idleCpuMsPerMinute, 0), unit: 'ms' },
        { label: "the install's compile cache: recorded (once per install, before any cell)", value: round(compileCacheMs, 0), unit: 'ms' },
        { label: 'cell: disk of its directories', value: round(cellTree.diskBytes / MiB, 1), unit: 'MiB' },
        {
          label: 'cell: disk without rebuildable caches (what the quota counts)',
          value: round(cellTree.storedBytes / MiB, 1),
          unit: 'MiB',
        },
        { label: 'bare gateways per GiB', value: round(GiB / bareTree.rssBytes, 2), unit: '' },
        { label: 'cells per GiB', value: round(GiB / cellTree.rssBytes, 2), unit: '' },
        { label: 'cells per GiB once quiet (the tree after its upkeep)', value: round(GiB / sweptTree.rssBytes, 2), unit: '' },
        { label: 'cells per GiB once quiet, by anonymous memory', value: round(GiB / sweptTree.anonBytes, 2), unit: '' },
        { label: 'host load average (1 min) at the end', value: round(loadavg()[0]!, 1), unit: '' },
      ],
      ratio: round(cellColdMs / bareColdMs, 2),
      goal: { op: '<=', value: 1.25 },
      ratioMeaning: 'cold tenant connect → first reply through the front door ÷ a bare gateway’s spawn → first reply',
      notes: [
        `OpenClaw ${install.openclawVersion} on Node ${install.nodeVersion}; cell ${sandbox}${runtime.osUsers ? ', as its own OS user' : ''}, heap limits \`${DEFAULT_CELL_NODE_OPTIONS}\` , \`MALLOC_ARENA_MAX=${DEFAULT_CELL_MALLOC_ARENA_MAX}\` and \`GLIBC_TUNABLES=${DEFAULT_CELL_GLIBC_TUNABLES}\` on both sides; the cell's V8 is asked to optimize for size once OpenClaw listens (\`optimizeForSize\`; the bare gateway has no relay to ask it); the cell runs without OpenClaw's spawn broker (\`spawnBroker: false\`) and its device-pairing plugin (a built-in default of cells) and, having no network, without OpenClaw's sweep of its cloud workers; the bare gateway with all three.`,
        `The first reply is \`${FIRST_REPLY}\`, which the cell itself answers (the front door holds it while the cell starts). Memory is read ${IDLE_MS / 1000} s after that reply, with the tenant's client still connected, then after the quiet time and after OpenClaw's next upkeep run; CPU time over the ${IDLE_CPU_WINDOW_MS / 1000} s after that. The cell's tree includes the sandbox (its relay runs in OpenClaw's process). Warm figures are medians of ${WARM_ROUNDS} new connections.`,
        `A returning tenant: after the figures above it has a chat turn (fake model), its cell is stopped and its workspace gets ${PROJECT_FILES.toLocaleString('en')} small files of its own (an agent's project and its dependencies); the bare gateway gets the same files (no chat turn: it has no model) before it starts again on its own state.`,
        `A returning tenant on a primed process: a front door keeping one (\`primedProcesses: 1\`; its replacement is primed once the taken one's start is done); the tenant's first life with a chat turn, its cell stopped, the same ${PROJECT_FILES.toLocaleString('en')} files in its workspace, then its return once a process is primed again and ${IDLE_MS / 1000} s have passed.`,
        // The ratio says what the front door adds; the project's absolute goals are reported beside it.
        `Every front door here keeps the install's compile cache (\`compileCache\`, the CLI's default), recorded once before the first cell; the bare gateway has OpenClaw's own, in its state. The cold tenant's cells have the model gateway (a fake model), as the other front doors here.`,
        `Project goals for a cell: idle tree ≤ 500 MiB, by RSS (${goalText(sweptTree.rssBytes <= 500 * MiB)}: ${round(cellTree.rssBytes / MiB, 0)} MiB, ${round(sweptTree.rssBytes / MiB, 0)} MiB once quiet, ${round(releasedTree.rssBytes / MiB, 0)} MiB before OpenClaw's upkeep starts its workers again; by anonymous memory, what one more cell takes from the host, ${round(cellTree.anonBytes / MiB, 0)} and ${round(sweptTree.anonBytes / MiB, 0)} MiB); cold connect → first reply ≤ 5 s: for a new tenant taking a pre-booted cell ${goalText(pooled.firstReplyMs <= 5_000)} (${round(pooled.firstReplyMs / 1000, 2)} s; its first chat turn ${round(pooled.firstTurnMs / 1000, 1)} s), for a tenant whose own cell must start ${goalText(cellColdMs <= 5_000)} (${round(cellColdMs / 1000, 1)} s; returning ${round(cellReturningMs / 1000, 1)} s, a bare gateway's restart ${round(bareRestartMs / 1000, 1)} s), for a returning tenant taking a primed process ${goalText(primed.firstReplyMs <= 5_000)} (${round(primed.firstReplyMs / 1000, 1)} s).`,
      ],
    };
  },
};

/** A front door's runtime as every part of this benchmark runs it: the defaults, a model gateway before a local fake model, the shared compile cache; and `extra`. */
async function benchRuntime(
  install: OpenClawInstall,
  logger: ReturnType<typeof createLogger>,
  compileCache: { dir: string },
  extra: OpenClawRuntimeOptions,
): Promise<{ runtime: OpenClawRuntime; closeModels: () => Promise<void> }> {
  const model = await startFakeModelServer();
  const models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: model.baseUrl, apiKey: 'fake-key' } } });
  const runtime = createOpenClawRuntime({
    install,
    logger,
    models: { gateway: models },
    config: fakeModelOpenClawConfig(),
    compileCache,
    ...extra,
  });
  return { runtime, closeModels: async () => void (await Promise.all([models.close(), model.close()])) };
}

/** Sends one chat message and resolves with the milliseconds until its final answer. */
async function chatTurn(connection: GatewayConnection): Promise<number> {
  const started = performance.now();
  const final = new Promise<void>((resolve, reject) => {
    const stop = connection.onEvent((event) => {
      const { event: name, payload } = event as { event: string; payload?: { state?: string; errorMessage?: string } };
      const state = payload?.state ?? '';
      if (name !== 'chat' || !['final', 'error', 'aborted'].includes(state)) return;
      stop();
      if (state === 'final') resolve();
      else reject(new Error(`chat turn ended ${state}: ${payload?.errorMessage ?? ''}`));
    });
  });
  await connection.request(
    'chat.send',
    { sessionKey: 'main', message: 'Say hello', idempotencyKey: `bench-${Date.now()}` },
    { timeoutMs: 200_000 },
  );
  await final;
  return performance.now() - started;
}

/**
 * A front door keeping one pre-booted cell, with a model gateway and a local fake model (so the cell runs its
 * warm-up turn): how long the cell takes to be offered and what it holds then, then a new tenant's connect →
 * first reply and first chat turn.
 */
async function newTenantOnWarmCell(
  install: OpenClawInstall,
  dataDir: string,
  logger: ReturnType<typeof createLogger>,
  compileCache: { dir: string },
): Promise<{ bootMs: number; firstReplyMs: number; firstTurnMs: number; standbyBytes: number }> {
  const manager = new TenantManager({ ...createFsAdapter({ dataDir }), idleTimeoutMs: 0 });
  const booted = performance.now();
  const { runtime, closeModels } = await benchRuntime(install, logger, compileCache, {
    warmCells: { count: 1, dir: join(dataDir, 'warm-cells'), refillDelayMs: 600_000 },
  });
  const gateway = createGateway({ manager, runtime, port: 0, handshakeTimeoutMs: 180_000, quotas: { connections: 100 }, logger });
  try {
    const { url } = await gateway.listen();
    while (!runtime.warmCells().some((cell) => cell.offered)) {
      if (performance.now() - booted > 300_000) throw new Error('the pre-booted cell was not offered within 300 s');
      await pause(50);
    }
    const bootMs = performance.now() - booted;
    // Settled, as a pool is long before its tenant comes.
    await pause(IDLE_MS);
    const standbyBytes = (await runtime.standby()).rssBytes;
    const { token } = await manager.tokens.create(NEW_TENANT);
    const started = performance.now();
    const first = await connectAndAsk(url, token, false);
    const firstReplyMs = performance.now() - started;
    const firstTurnMs = await chatTurn(first);
    first.close();
    return { bootMs, firstReplyMs, firstTurnMs, standbyBytes };
  } finally {
    await gateway.close();
    await closeModels();
    if (runtime.osUsers) await deleteTenantUser(NEW_TENANT, join(dataDir, 'workspaces', tenantDirName(NEW_TENANT))).catch(() => undefined);
  }
}

/**
 * A front door keeping one primed process: a tenant's first life (its state, a conversation), then its cell is
 * stopped, its workspace gets the project, and it returns once a process is primed again and the host is quiet.
 */
async function returningTenantOnPrimedProcess(
  install: OpenClawInstall,
  dataDir: string,
  logger: ReturnType<typeof createLogger>,
  compileCache: { dir: string },
): Promise<{ primeMs: number; firstReplyMs: number; standbyBytes: number }> {
  const manager = new TenantManager({ ...createFsAdapter({ dataDir }), idleTimeoutMs: 0 });
  const { runtime, closeModels } = await benchRuntime(install, logger, compileCache, {
    primedProcesses: { count: 1, dir: join(dataDir, 'primed') },
  });
  const gateway = createGateway({ manager, runtime, port: 0, handshakeTimeoutMs: 180_000, quotas: { connections: 100 }, logger });
  const root = join(dataDir, 'workspaces', tenantDirName(TENANT));
  const primedOne = async () => {
    const deadline = performance.now() + 300_000;
    for (;;) {
      const ready = runtime.primedProcesses().find((process) => process.primed);
      if (ready !== undefined) return ready;
      if (performance.now() > deadline) throw new Error('no process was primed within 300 s');
      await pause(50);
    }
  };
  try {
    const { url } = await gateway.listen();
    const { token } = await manager.tokens.create(TENANT);
    await primedOne();
    // A first life with a conversation.
    const first = await connectAndAsk(url, token, false);
    await chatTurn(first);
    first.close();
    await manager.evict(TENANT, { force: true });
    const { uid, gid } = statSync(join(root, 'workspace'));
    writeProject(join(root, 'workspace'), { uid, gid });
    const waiting = await primedOne();
    // Settled, as a primed process is long before its tenant comes.
    await pause(IDLE_MS);
    const standbyBytes = (await runtime.standby()).rssBytes;
    const started = performance.now();
    (await connectAndAsk(url, token, false)).close();
    return { primeMs: waiting.primedAt! - waiting.startedAt, firstReplyMs: performance.now() - started, standbyBytes };
  } finally {
    await gateway.close();
    await closeModels();
    if (runtime.osUsers) await deleteTenantUser(TENANT, root).catch(() => undefined);
  }
}

/** Writes {@link PROJECT_FILES} small files in 100 directories under `dir`, owned by `owner` when given. */
function writeProject(dir: string, owner?: { uid: number; gid: number }): void {
  const own = (path: string) => owner !== undefined && chownSync(path, owner.uid, owner.gid);
  mkdirSync(join(dir, 'project'), { recursive: true });
  own(join(dir, 'project'));
  for (let d = 0; d < 100; d++) {
    const sub = join(dir, 'project', `module-${d}`);
    mkdirSync(sub);
    own(sub);
    for (let f = 0; f < PROJECT_FILES / 100; f++) {
      writeFileSync(join(sub, `file-${f}.js`), `export const value = ${f};\n`);
      own(join(sub, `file-${f}.js`));
    }
  }
}

function goalText(met: boolean): string {
  return met ? 'met' : '**not met**';
}
