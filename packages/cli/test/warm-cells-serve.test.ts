import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import {
  defaultRuntimeDir,
  deleteTenantUser,
  installOpenClawRuntime,
  sandboxSupport,
  tenantUserName,
  type OpenClawRuntime,
} from '@openclaw-mt/runtime-openclaw';
import { createFakeInstall } from '../../runtime-openclaw/test/support/harness.js';
import { buildGateway, type BuiltGateway } from '../src/context/build-gateway.js';
import { run } from './support/cli-process.js';

// The gateway serve builds from an operator config with `warmCells: 1` and `primedProcesses: 1`: the pre-booted
// cell lives in <dataDir>/warm-cells, and a new tenant's first connect is served by it; the primed process waits in
// <dataDir>/primed-processes for a tenant with state of its own (fake `openclaw` entries in real sandboxes). With the
// model gateway configured, as operators run it: serve starts that gateway after the runtime, and what the runtime
// starts at once (the pre-booted cell, the primed process, the compile cache's recording) waits for it.

const TENANT = 'warm-serve';
const ADMIN_TOKEN = 'admin-token-for-warm-cells-0123456789';
const OPERATOR_KEY = 'sk-operator-key-of-warm-cells';
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;

describe.skipIf(!canSandbox)('serve with a pre-booted OpenClaw cell', () => {
  let install: { dir: string; cleanup: () => Promise<void> };
  let dir: string;
  let built: BuiltGateway;
  let url: string;
  let adminUrl: string;
  let configPath: string;
  let session: GatewayConnection | undefined;
  const dataDir = () => join(dir, 'data');
  const runtime = () => built.gateway.runtime as OpenClawRuntime;

  beforeAll(async () => {
    // Run by the runtime's Node (24), which has the compile cache that Node 20 lacks.
    const { nodePath } = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    install = await createFakeInstall({ selfContained: true, nodePath });
    dir = await mkdtemp(join(tmpdir(), 'ocmt-warm-serve-'));
    const path = join(dir, 'config.json');
    configPath = path;
    await writeFile(
      path,
      JSON.stringify({
        multiTenant: {
          dataDir: dataDir(),
          admin: { token: ADMIN_TOKEN, port: 0 },
          gateway: {
            runtime: 'openclaw',
            port: 0,
            handshakeTimeoutMs: 60_000,
            // The fake says when it takes connections, as OpenClaw does (a primed process's module list is recorded until then).
            openclaw: {
              runtimeDir: install.dir,
              warmCells: 1,
              primedProcesses: 1,
              config: { fake: { sidecarsMs: 50, reportCompileCache: true } },
              models: { providers: { fake: { api: 'openai-completions', baseUrl: 'http://127.0.0.1:9/v1', apiKey: OPERATOR_KEY } } },
            },
          },
        },
      }),
    );
    built = await buildGateway(await loadConfig({ path }));
    const urls = await built.listen();
    url = urls.url;
    adminUrl = urls.adminUrl!;
  }, 300_000);
  afterAll(async () => {
    session?.close();
    await built?.stop();
    await deleteTenantUser(TENANT, join(dataDir(), 'workspaces', tenantDirName(TENANT))).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await install.cleanup();
  });

  test("keeps the cell in <dataDir>/warm-cells and gives it to a new tenant's first connect", async () => {
    // Its model provider is configured: no warning that chat turns would fail.
    expect(built.warnings.join('\n')).not.toContain('no model provider');
    const deadline = Date.now() + 60_000;
    let warm = runtime().warmCells()[0];
    while (warm?.offered !== true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      warm = runtime().warmCells()[0];
    }
    expect(warm).toMatchObject({ state: 'ready', spares: { ready: true } });
    expect(await readdir(join(dataDir(), 'warm-cells'))).toEqual([warm!.tenantId]);
    let primed = runtime().primedProcesses()[0];
    while (primed?.primed !== true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      primed = runtime().primedProcesses()[0];
    }
    expect(primed).toMatchObject({ name: 'primed-1', primed: true });
    expect(await readdir(join(dataDir(), 'primed-processes', 'slots'))).toEqual(['primed-1']);
    // Recorded once the model gateway ran (its providers are in the cells' config): cells start from it.
    expect(await runtime().compileCacheReady()).toBe(true);

    // The operator sees what it costs: the admin API, /metrics and `stats`.
    const admin = (path: string) => fetch(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const stats = (await (await admin('/v1/stats')).json()) as { standby: { cells: number; rssBytes: number; anonBytes: number } };
    expect(stats.standby.cells).toBe(2);
    expect(stats.standby.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(stats.standby.anonBytes).toBeGreaterThan(0);
    expect(stats.standby.anonBytes).toBeLessThan(stats.standby.rssBytes);
    const metrics = await (await admin('/metrics')).text();
    expect(metrics).toMatch(/^openclaw_mt_standby_cells 2$/m);
    expect(metrics).toMatch(/^openclaw_mt_standby_memory_bytes [1-9]\d+$/m);
    const printed = await run(['stats', '--config', configPath, '--admin-url', adminUrl], { cwd: dir });
    expect(printed.stdout).toMatch(/^standby: +2 processes kept ready for users, memory \d+ MiB \(\d+ MiB their own\)$/m);

    const { token } = await built.gateway.manager.tokens.create(TENANT);
    session = await connectGateway({ url, token, scopes: ['operator.read'], timeoutMs: 30_000 });
    const cell = runtime()
      .cells()
      .find((info) => info.tenantId === TENANT);
    const root = join(dataDir(), 'workspaces', tenantDirName(TENANT));
    expect(cell).toMatchObject({ pid: warm!.pid, starts: 1 });
    expect(cell!.user!.name).toBe(tenantUserName(TENANT, await realpath(root)));
    // Its providers point at the model gateway, its credential named, never written; the operator's key is nowhere.
    const written = await readFile(join(root, 'agent', 'openclaw.json'), 'utf8');
    expect(JSON.parse(written)).toMatchObject({
      models: {
        providers: {
          fake: {
            apiKey: { source: 'env', id: 'OPENCLAW_MT_MODEL_KEY' },
            baseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/fake$/),
          },
        },
      },
    });
    expect(written).not.toContain(OPERATOR_KEY);
    expect(await session.request('health')).toMatchObject({ ok: true, env: { workspace: '/tenant/workspace' } });
    // A new tenant takes the pre-booted cell; the primed process waits for one with state of its own.
    expect(runtime().primedProcesses()).toMatchObject([{ name: 'primed-1', primed: true }]);
  });

  test('stops the pre-booted cells and primed processes and removes their directories when it stops', async () => {
    session?.close();
    session = undefined;
    await built.stop();
    expect(runtime().warmCells()).toEqual([]);
    expect(await readdir(join(dataDir(), 'warm-cells'))).toEqual([]);
    expect(runtime().primedProcesses()).toEqual([]);
    expect(await readdir(join(dataDir(), 'primed-processes', 'slots'))).toEqual([]);
  });
});
